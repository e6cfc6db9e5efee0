"use strict";

const { bridgeUrl } = require("../lib/bridge");
const { OUTCOMES, SAMPLE_CALL, callOutputFields } = require("../lib/call");

// "Call finished": a REST hook. Subscribing creates a bridge webhook whose URL is Zapier's target
// URL; the bridge POSTs one event per finished call ({id, type, timestamp, data}, signed per
// Standard Webhooks). performList reads the same events from the events feed for samples, so a
// sample and a live event have the same shape.

const outcomeOf = (bundle) => bundle.inputData.outcome || "call.completed";

const performSubscribe = async (z, bundle) => {
  const response = await z.request({
    url: bridgeUrl(bundle, "/v1/webhooks"),
    method: "POST",
    body: { url: bundle.targetUrl, events: [outcomeOf(bundle)], description: "Zapier: Call finished" },
  });
  // Kept by Zapier as bundle.subscribeData; its `id` is what performUnsubscribe deletes.
  return response.data;
};

/** Deleting a subscription that is already gone answers 200 too: Zapier may unsubscribe twice. */
const performUnsubscribe = async (z, bundle) => {
  const response = await z.request({
    url: bridgeUrl(bundle, `/v1/webhooks/${encodeURIComponent(bundle.subscribeData.id)}`),
    method: "DELETE",
  });
  return response.data;
};

const SAMPLE_EVENT = {
  id: "evt_9b2f41c0d3e84a7f9c1e2d3b4a5f6e7d",
  type: "call.completed",
  timestamp: "2026-01-28T18:03:52.410Z",
  data: SAMPLE_CALL,
};

/** Recent events of the chosen kind, newest first, for samples and for Zapier's dedupe list. */
const performList = async (z, bundle) => {
  const response = await z.request({
    url: bridgeUrl(bundle, "/v1/events"),
    params: { type: outcomeOf(bundle), limit: 25 },
  });
  return response.data.items;
};

/**
 * One delivery: the event itself, whose `id` is its webhook-id. Test deliveries (POST
 * /v1/webhooks/{id}/test) run no Zap. Called without a delivery (`zapier-platform invoke`, loading
 * samples), it answers the latest event of the feed, or the sample when the feed is empty.
 */
const perform = async (z, bundle) => {
  const event = bundle.cleanedRequest || {};
  if (event.test === true) return [];
  if (event.id) return [event];
  const [latest] = await performList(z, bundle);
  return [latest || SAMPLE_EVENT];
};

module.exports = {
  key: "call_finished",
  noun: "Call",
  display: {
    label: "Call Finished",
    description:
      "Triggers when a call placed through KallyAI ends: succeeded, no answer, busy, voicemail, failed, cancelled or expired.",
  },
  operation: {
    type: "hook",
    inputFields: [
      {
        key: "outcome",
        label: "Outcome",
        required: true,
        choices: OUTCOMES,
        default: "call.completed",
        helpText:
          'Which finished calls start the Zap. "Any outcome" gives every call; the status field says how it ended.',
      },
    ],
    performSubscribe,
    performUnsubscribe,
    perform,
    performList,
    sample: SAMPLE_EVENT,
    outputFields: [
      { key: "id", label: "Event ID" },
      { key: "type", label: "Event type" },
      { key: "timestamp", label: "Event time", type: "datetime" },
      ...callOutputFields("data__"),
    ],
  },
};
