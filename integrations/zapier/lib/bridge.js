"use strict";

// How every request reaches the bridge: its URL comes from the connection (each person runs or
// picks their own bridge), the OAuth access token goes in Authorization, and the bridge's
// {"error": {"code", "message"}} answers (and OAuth's {"error", "error_description"}) become
// Zapier errors carrying that message.

/** The bridge's origin as the person typed it, without trailing slashes. */
const baseUrl = (bundle) =>
  String(bundle.authData.bridge_url || "")
    .trim()
    .replace(/\/+$/, "");

const bridgeUrl = (bundle, path) => `${baseUrl(bundle)}${path}`;

const addAccessToken = (request, _z, bundle) => {
  request.headers = request.headers || {};
  const tokenEndpoint = /\/oauth\/token$/.test(String(request.url || "").split("?")[0]);
  if (bundle.authData.access_token && !tokenEndpoint)
    request.headers.Authorization = `Bearer ${bundle.authData.access_token}`;
  request.headers.Accept = request.headers.Accept || "application/json";
  // 429s go through bridgeErrors below, so the Zap history shows the bridge's message (which
  // guard, when to retry) instead of Zapier's generic one.
  request.throwForThrottlingEarly = false;
  return request;
};

const checkBridgeUrl = (request, z, bundle) => {
  if (!/^https?:\/\/[^/]+/i.test(baseUrl({ authData: { ...bundle.inputData, ...bundle.authData } }))) {
    throw new z.errors.Error(
      "The bridge URL must start with https:// (e.g. https://kallyai-bridge.example.workers.dev). Reconnect the account with the full address.",
      "invalid_bridge_url",
      400,
    );
  }
  return request;
};

/**
 * Throws the bridge's error as a Zapier error carrying its message, so the Zap history says what to
 * do: 429 asks Zapier to retry after Retry-After; a refused access token asks Zapier to refresh it
 * (autoRefresh), and a refused refresh marks the connection expired.
 */
const raiseForStatus = (response, z, bundle) => {
  if (response.status < 400) return response;
  let body = {};
  try {
    body = JSON.parse(response.content) || {};
  } catch {
    // Not the bridge's JSON (a proxy's page, say): the status tells enough.
  }
  const oauth = typeof body.error === "string";
  const error = oauth ? { code: body.error, message: body.error_description } : body.error || {};
  const message = error.message || `The bridge answered HTTP ${response.status}.`;
  if (response.status === 429) {
    const delay = parseInt(response.headers.get("retry-after"), 10);
    throw new z.errors.ThrottledError(message, Number.isNaN(delay) ? 60 : delay);
  }
  if (response.status === 401 && error.code === "invalid_token" && !bundle.meta?.isTestingAuth)
    throw new z.errors.RefreshAuthError(message);
  if (oauth && error.code === "invalid_grant") throw new z.errors.ExpiredAuthError(message);
  throw new z.errors.Error(message, error.code || `http_${response.status}`, response.status);
};

/** afterResponse: every answer goes through raiseForStatus, unless the operation looks at the status itself. */
const bridgeErrors = (response, z, bundle) =>
  response.skipThrowForStatus ? response : raiseForStatus(response, z, bundle);

/** Drops fields left empty in the Zap editor: the bridge reads an absent field as "use the default". */
const withoutEmpty = (fields) =>
  Object.fromEntries(
    Object.entries(fields).filter(
      ([, v]) => v !== undefined && v !== null && v !== "" && !(Array.isArray(v) && v.length === 0),
    ),
  );

module.exports = { addAccessToken, baseUrl, bridgeErrors, bridgeUrl, checkBridgeUrl, raiseForStatus, withoutEmpty };
