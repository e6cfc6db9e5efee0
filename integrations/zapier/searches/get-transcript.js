"use strict";

const { bridgeUrl, raiseForStatus } = require("../lib/bridge");

// "Get a transcript": what was said on a call, as entries and as one text ready for an email or a
// note (the bridge's own ?format=text rendering). A call without a transcript yet finds nothing.

const perform = async (z, bundle) => {
  const url = bridgeUrl(bundle, `/v1/calls/${encodeURIComponent(bundle.inputData.call_id)}/transcript`);
  const [json, text] = await Promise.all([
    z.request({ url, skipThrowForStatus: true }),
    z.request({ url, params: { format: "text" }, headers: { Accept: "text/plain" }, skipThrowForStatus: true }),
  ]);
  if (json.status === 404) return [];
  raiseForStatus(json, z, bundle);
  raiseForStatus(text, z, bundle);
  return [{ id: json.data.call_id, ...json.data, text: text.content }];
};

module.exports = {
  key: "get_transcript",
  noun: "Transcript",
  display: {
    label: "Get a Transcript",
    description: "Gets what was said on a finished call, line by line and as one text.",
  },
  operation: {
    inputFields: [
      {
        key: "call_id",
        label: "Call ID",
        required: true,
        helpText: "The call, e.g. mapped from **Call Finished** (Data ID) or **Place a Call**.",
      },
    ],
    perform,
    sample: {
      id: "6f1c2a9e-3b7d-4c21-9a55-0d2e8f7b1c34",
      call_id: "6f1c2a9e-3b7d-4c21-9a55-0d2e8f7b1c34",
      entries: [
        { speaker: "HUMAN", content: "Italian Bistro, how can I help?", timestamp: "2026-01-28T18:02:20Z" },
        { speaker: "AI", content: "Hi, I'd like to reserve a table for 4 at 8pm.", timestamp: "2026-01-28T18:02:24Z" },
      ],
      text: "Business: Italian Bistro, how can I help?\nAssistant: Hi, I'd like to reserve a table for 4 at 8pm.",
    },
    outputFields: [
      { key: "call_id", label: "Call ID" },
      { key: "text", label: "Transcript (text)" },
      { key: "entries[]speaker", label: "Speaker" },
      { key: "entries[]content", label: "What was said" },
      { key: "entries[]timestamp", label: "When" },
    ],
  },
};
