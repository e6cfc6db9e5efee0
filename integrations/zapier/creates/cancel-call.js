"use strict";

const { bridgeUrl } = require("../lib/bridge");
const { SAMPLE_CALL, callOutputFields } = require("../lib/call");

module.exports = {
  key: "cancel_call",
  noun: "Call",
  display: {
    label: "Cancel a Call",
    description: "Cancels a queued or running call. A call that has already ended cannot be cancelled.",
  },
  operation: {
    inputFields: [
      {
        key: "id",
        label: "Call ID",
        required: true,
        helpText: "The ID of the call, e.g. mapped from **Place a Call** or **Find a Call**.",
      },
    ],
    perform: async (z, bundle) => {
      const response = await z.request({
        url: bridgeUrl(bundle, `/v1/calls/${encodeURIComponent(bundle.inputData.id)}/cancel`),
        method: "POST",
      });
      return response.data;
    },
    sample: { ...SAMPLE_CALL, status: "cancelled", highlights: null, next_steps: null, duration_seconds: null },
    outputFields: callOutputFields(),
  },
};
