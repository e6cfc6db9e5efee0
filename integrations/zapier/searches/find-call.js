"use strict";

const { bridgeUrl, raiseForStatus } = require("../lib/bridge");
const { SAMPLE_CALL, STATUSES, callOutputFields } = require("../lib/call");

// "Find a call": by ID (GET /v1/calls/{id}), or the newest call matching a phone number and/or
// statuses among the latest 100 (GET /v1/calls?status=…). Nothing found is an empty list, which
// Zapier shows as "no result" (and a "search or create" step then creates).

const digits = (s) => String(s || "").replace(/\D/g, "");

/** "(415) 555-1234" finds "+14155551234": compare the last digits the person typed. */
const samePhone = (called, typed) => {
  const want = digits(typed);
  return want.length >= 6 && digits(called).endsWith(want.replace(/^0+/, ""));
};

const perform = async (z, bundle) => {
  const { id, phone, status } = bundle.inputData;
  if (id) {
    const response = await z.request({
      url: bridgeUrl(bundle, `/v1/calls/${encodeURIComponent(id)}`),
      skipThrowForStatus: true,
    });
    if (response.status === 404) return [];
    raiseForStatus(response, z, bundle);
    return [response.data];
  }
  const statuses = [].concat(status || []).filter(Boolean);
  const response = await z.request({
    url: bridgeUrl(bundle, "/v1/calls"),
    params: { limit: 100, ...(statuses.length ? { status: statuses.join(",") } : {}) },
  });
  const found = response.data.items.find((call) => !phone || samePhone(call.phone, phone));
  return found ? [found] : [];
};

module.exports = {
  key: "find_call",
  noun: "Call",
  display: {
    label: "Find a Call",
    description: "Finds a call by its ID, or the most recent call to a phone number or with a given outcome.",
  },
  operation: {
    inputFields: [
      {
        key: "id",
        label: "Call ID",
        helpText: "Find exactly this call. Leave empty to search by phone number and status instead.",
      },
      {
        key: "phone",
        label: "Phone Number",
        helpText: "The most recent call to this number (any format; the last digits are compared).",
      },
      {
        key: "status",
        label: "Status",
        choices: STATUSES,
        list: true,
        helpText: "Only calls that ended this way (or are in this state).",
      },
    ],
    perform,
    sample: SAMPLE_CALL,
    outputFields: callOutputFields(),
  },
};
