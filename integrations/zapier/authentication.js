"use strict";

const { baseUrl } = require("./lib/bridge");

// OAuth2: the person types their bridge's URL, clicks Connect, signs in with KallyAI and allows
// Zapier on the bridge's consent page; no key is copied. Zapier is a confidential client of that
// bridge, registered once by its operator (docs/oauth.md, "Zapier"), whose id and secret are this
// app's environment: `zapier-platform env:set <version> CLIENT_ID=… CLIENT_SECRET=…`. Tokens are for the
// bridge's REST API (`resource` = <bridge>/v1); Zapier refreshes them when one is refused (401).

/** What Zapier asks for: placing and reading calls, and the Call Finished hook. */
const SCOPE = "calls:write calls:read webhooks";

/** The bridge's URL: typed before connecting (inputData), kept with the tokens afterwards (authData). */
const bridgeOf = (bundle) => baseUrl({ authData: { ...bundle.inputData, ...bundle.authData } });

/** Zapier appends redirect_uri and state (and, with PKCE, the code challenge) to this URL. */
const authorizeUrl = (_z, bundle) => {
  const bridge = bridgeOf(bundle);
  const url = new URL(`${bridge}/authorize`);
  url.searchParams.set("client_id", process.env.CLIENT_ID || "");
  url.searchParams.set("response_type", "code");
  url.searchParams.set("scope", SCOPE);
  url.searchParams.set("resource", `${bridge}/v1`);
  return url.toString();
};

const tokenRequest = async (z, bundle, body) => {
  const bridge = bridgeOf(bundle);
  const response = await z.request({
    url: `${bridge}/oauth/token`,
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
    body: {
      ...body,
      client_id: process.env.CLIENT_ID,
      client_secret: process.env.CLIENT_SECRET,
      resource: `${bridge}/v1`,
    },
  });
  return { access_token: response.data.access_token, refresh_token: response.data.refresh_token };
};

const getAccessToken = (z, bundle) =>
  tokenRequest(z, bundle, {
    grant_type: "authorization_code",
    code: bundle.inputData.code,
    redirect_uri: bundle.inputData.redirect_uri,
    ...(bundle.inputData.code_verifier ? { code_verifier: bundle.inputData.code_verifier } : {}),
  });

/** The bridge rotates refresh tokens: the new one replaces the old in authData. */
const refreshAccessToken = (z, bundle) =>
  tokenRequest(z, bundle, { grant_type: "refresh_token", refresh_token: bundle.authData.refresh_token });

/** GET /v1/me, which also says whether the KallyAI account behind the connection is still linked. */
const test = async (z, bundle) => {
  const response = await z.request({ url: `${bridgeOf(bundle)}/v1/me` });
  const me = response.data;
  if (!me.linked) {
    throw new z.errors.Error(
      "Connected, but the KallyAI account is not linked to the bridge (or needs linking again). Sign in at <bridge>/auth/login, then reconnect.",
      "not_linked",
      409,
    );
  }
  return me;
};

module.exports = {
  type: "oauth2",
  fields: [
    {
      key: "bridge_url",
      label: "Bridge URL",
      required: true,
      type: "string",
      helpText: "The address of your KallyAI Bridge, e.g. `https://kallyai-bridge.you.workers.dev`.",
    },
  ],
  oauth2Config: {
    authorizeUrl,
    getAccessToken,
    refreshAccessToken,
    scope: SCOPE,
    autoRefresh: true,
    enablePkce: true,
  },
  test,
  connectionLabel: (_z, bundle) => {
    const me = bundle.inputData || {};
    return me.key ? `${me.key.name} (${me.user_id})` : "";
  },
};
