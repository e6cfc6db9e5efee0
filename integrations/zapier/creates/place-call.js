"use strict";

const crypto = require("node:crypto");
const { bridgeUrl, raiseForStatus, withoutEmpty } = require("../lib/bridge");
const { CATEGORIES, LANGUAGES } = require("../lib/call");

// "Place a call": POST /v1/calls with every field of the bridge's call input
// (src/shared/call-input.ts). Every run carries an Idempotency-Key: the one mapped by the person,
// or a fresh one per run. A request whose fate is unknown (network error, 502/503/504, or
// 409 idempotency_in_progress) is sent once more with the same key, so it places at most one call.

const inputFields = [
  {
    key: "phone",
    label: "Phone Number",
    required: true,
    helpText:
      "The number to call, in any common format: `+14155551234`, `(415) 555-1234`, `+44 20 7946 0958`. National formats are read in **Country** (default: the bridge's, US). Emergency and service numbers are never called.",
  },
  {
    key: "task",
    label: "Task",
    required: true,
    type: "text",
    helpText:
      'What the AI should accomplish on the call, 10–1000 characters, e.g. "Reserve a table for 4 at 8pm" or "Ask whether they have oat milk in stock".',
  },
  {
    key: "category",
    label: "Category",
    choices: CATEGORIES,
    default: "general",
    helpText: "What kind of business: restaurant, clinic, hotel or general.",
  },
  {
    key: "language",
    label: "Language",
    choices: LANGUAGES,
    default: "en",
    helpText: "The language of the request and the report.",
  },
  {
    key: "call_language",
    label: "Call Language",
    choices: LANGUAGES,
    helpText: "The language spoken on the call, if not the same as **Language**.",
  },
  {
    key: "business",
    label: "Business Name",
    helpText: 'The name of the business being called, e.g. "Italian Bistro".',
  },
  { key: "name", label: "Your Name", helpText: "The name to give, e.g. for a reservation." },
  { key: "party_size", label: "Party Size", type: "integer", helpText: "How many people, 1–50 (reservations)." },
  {
    key: "date",
    label: "Date",
    helpText: "The date of the reservation or appointment, as YYYY-MM-DD, e.g. 2026-01-28.",
  },
  { key: "time", label: "Time", helpText: "The time, as HH:MM on a 24-hour clock, e.g. 20:00." },
  {
    key: "time_preference",
    label: "Time Preference",
    helpText: 'Free text when there is no exact time, e.g. "morning before 11am".',
  },
  {
    key: "timezone",
    label: "Time Zone",
    helpText: "An IANA time zone such as America/New_York. Default: your Zapier time zone, else the bridge's.",
  },
  {
    key: "user_phone",
    label: "Your Phone Number",
    helpText: "Your own number, if the business should be able to call you back.",
  },
  { key: "urgent", label: "Urgent", type: "boolean", helpText: "Mark the call as urgent." },
  {
    key: "instructions",
    label: "Instructions",
    list: true,
    helpText: 'Extra instructions for the AI, one per line, e.g. "Ask for a window table".',
  },
  {
    key: "country",
    label: "Country",
    helpText: "Two letters (US, GB, ES…): how to read phone numbers written without a country code.",
  },
  {
    key: "idempotency_key",
    label: "Idempotency Key",
    helpText:
      "Map something unique to what starts the Zap (e.g. the new row's or email's ID): a replayed run with the same key places no second call within 24 hours. Left empty, each run gets its own key.",
  },
];

const RETRYABLE = [502, 503, 504];

const perform = async (z, bundle) => {
  const { idempotency_key: mapped, ...fields } = bundle.inputData;
  const key = mapped || `zapier-${crypto.randomUUID()}`;
  const body = withoutEmpty({ timezone: bundle.meta?.timezone, ...fields });
  const send = () =>
    z.request({
      url: bridgeUrl(bundle, "/v1/calls"),
      method: "POST",
      headers: { "Idempotency-Key": key },
      body,
      skipThrowForStatus: true,
    });
  let response;
  try {
    response = await send();
  } catch {
    // Network failure: the bridge may or may not have the call; the same key makes asking again safe.
    response = await send();
  }
  const inProgress = response.status === 409 && response.json?.error?.code === "idempotency_in_progress";
  if (RETRYABLE.includes(response.status) || inProgress) {
    await new Promise((resolve) => setTimeout(resolve, 2000));
    response = await send();
  }
  raiseForStatus(response, z, bundle);
  return response.data;
};

module.exports = {
  key: "place_call",
  noun: "Call",
  display: {
    label: "Place a Call",
    description:
      "Has KallyAI's AI phone a business and do a task: book a table, ask about stock or opening hours, make an appointment.",
  },
  operation: {
    inputFields,
    perform,
    sample: {
      id: "6f1c2a9e-3b7d-4c21-9a55-0d2e8f7b1c34",
      status: "queued",
      created_at: "2026-01-28T18:02:11.000Z",
      links: {
        self: "/v1/calls/6f1c2a9e-3b7d-4c21-9a55-0d2e8f7b1c34",
        transcript: "/v1/calls/6f1c2a9e-3b7d-4c21-9a55-0d2e8f7b1c34/transcript",
        recording: "/v1/calls/6f1c2a9e-3b7d-4c21-9a55-0d2e8f7b1c34/recording",
        cancel: "/v1/calls/6f1c2a9e-3b7d-4c21-9a55-0d2e8f7b1c34/cancel",
      },
    },
    outputFields: [
      { key: "id", label: "Call ID" },
      { key: "status", label: "Status" },
      { key: "created_at", label: "Placed at", type: "datetime" },
      { key: "links__self", label: "Call link (path)" },
      { key: "links__transcript", label: "Transcript link (path)" },
      { key: "links__recording", label: "Recording link (path)" },
      { key: "links__cancel", label: "Cancel link (path)" },
    ],
  },
};
