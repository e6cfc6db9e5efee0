const { version } = require("./package.json");
const { version: platformVersion } = require("zapier-platform-core");
const authentication = require("./authentication");
const { addAccessToken, bridgeErrors, checkBridgeUrl } = require("./lib/bridge");
const callFinished = require("./triggers/call-finished");
const placeCall = require("./creates/place-call");
const cancelCall = require("./creates/cancel-call");
const findCall = require("./searches/find-call");
const getTranscript = require("./searches/get-transcript");

/** KallyAI Bridge for Zapier (see the "Zapier" section of the repository's docs/platforms.md). */
module.exports = {
  version,
  platformVersion,
  authentication,
  beforeRequest: [checkBridgeUrl, addAccessToken],
  afterResponse: [bridgeErrors],
  triggers: { [callFinished.key]: callFinished },
  creates: { [placeCall.key]: placeCall, [cancelCall.key]: cancelCall },
  searches: { [findCall.key]: findCall, [getTranscript.key]: getTranscript },
};
