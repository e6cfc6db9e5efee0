"use strict";

const { bridgeUrl } = require("./lib/bridge");

// API-key authentication: the person's bridge URL and a bridge API key. The test is GET /v1/me,
// which also says whether the key's KallyAI account is still linked.

const test = async (z, bundle) => {
  const response = await z.request({ url: bridgeUrl(bundle, "/v1/me") });
  const me = response.data;
  if (!me.linked) {
    throw new z.errors.Error(
      "The key works, but its KallyAI account is not linked to the bridge (or needs linking again). Sign in at <bridge>/auth/login, then reconnect.",
      "not_linked",
      409,
    );
  }
  return me;
};

module.exports = {
  type: "custom",
  fields: [
    {
      key: "bridge_url",
      label: "Bridge URL",
      required: true,
      type: "string",
      helpText: "The address of your KallyAI Bridge, e.g. `https://kallyai-bridge.you.workers.dev`.",
    },
    {
      key: "api_key",
      label: "API Key",
      required: true,
      type: "password",
      helpText:
        'A bridge API key for Zapier alone: in your bridge\'s console (`/console`), **Keys → Create a key** named "Zapier" with the scopes calls:write, calls:read and webhooks; it is shown once. (Or `POST /v1/keys {"name": "Zapier"}` with the key from signing in.) Revoke it to disconnect Zapier.',
    },
  ],
  test,
  connectionLabel: (_z, bundle) => {
    const me = bundle.inputData || {};
    return me.key ? `${me.key.name} (${me.user_id})` : "";
  },
};
