import type {
  IDataObject,
  IExecuteSingleFunctions,
  IHttpRequestOptions,
  INodeProperties,
  INodePropertyOptions,
} from "n8n-workflow";
import { throwBridgeErrors } from "../../shared/bridge";

// The bridge's call endpoints (POST /v1/calls, GET /v1/calls[/{id}[/transcript]], POST /v1/calls/{id}/cancel).
// The fields are the bridge's flat call input (src/shared/call-input.ts in the bridge's repository).

const LANGUAGES: INodePropertyOptions[] = [
  { name: "English", value: "en" },
  { name: "Spanish", value: "es" },
];

/** The statuses GET /v1/calls filters on. */
const STATUSES: INodePropertyOptions[] = [
  { name: "Busy", value: "busy" },
  { name: "Cancelled", value: "cancelled" },
  { name: "Expired (No Outcome Within 6 Hours)", value: "expired" },
  { name: "Failed", value: "failed" },
  { name: "In Progress", value: "in_progress" },
  { name: "No Answer", value: "no_answer" },
  { name: "Queued", value: "queued" },
  { name: "Succeeded", value: "success" },
  { name: "Voicemail", value: "voicemail" },
];

const forCall = (...operation: string[]) => ({ show: { resource: ["call"], operation } });
const callPath = (suffix = "") => `=/v1/calls/{{ encodeURIComponent(String($parameter.callId).trim()) }}${suffix}`;
const bridgeAnswer = { postReceive: [throwBridgeErrors] };

/** A date and time are read in the workflow's time zone unless Time Zone says otherwise, as n8n users expect. */
async function withWorkflowTimeZone(this: IExecuteSingleFunctions, request: IHttpRequestOptions) {
  const body = (request.body ?? {}) as IDataObject;
  if (!body.timezone) body.timezone = this.getTimezone();
  return { ...request, body };
}

const operation: INodeProperties = {
  displayName: "Operation",
  name: "operation",
  type: "options",
  noDataExpression: true,
  displayOptions: { show: { resource: ["call"] } },
  options: [
    {
      name: "Cancel",
      value: "cancel",
      action: "Cancel a call",
      description: "Stop a queued or running call",
      routing: { request: { method: "POST", url: callPath("/cancel") }, output: bridgeAnswer },
    },
    {
      name: "Get",
      value: "get",
      action: "Get a call",
      description: "Get a call and its outcome, optionally waiting for it to end",
      routing: { request: { method: "GET", url: callPath() }, output: bridgeAnswer },
    },
    {
      name: "Get Many",
      value: "getAll",
      action: "Get many calls",
      description: "Get the calls placed through the bridge, newest first",
      routing: {
        request: { method: "GET", url: "/v1/calls" },
        output: { postReceive: [throwBridgeErrors, { type: "rootProperty", properties: { property: "items" } }] },
      },
    },
    {
      name: "Get Transcript",
      value: "getTranscript",
      action: "Get the transcript of a call",
      description: "Get what was said on a call, line by line",
      routing: { request: { method: "GET", url: callPath("/transcript") }, output: bridgeAnswer },
    },
    {
      name: "Place",
      value: "place",
      action: "Place a call",
      description:
        "Have KallyAI's AI phone a business and do a task: book a table, ask about stock, make an appointment",
      routing: {
        request: { method: "POST", url: "/v1/calls" },
        send: { preSend: [withWorkflowTimeZone] },
        output: bridgeAnswer,
      },
    },
  ],
  default: "place",
};

/** Place: the call's fields, sent as JSON. Only fields that are set are sent; the bridge applies its defaults. */
const placeFields: INodeProperties[] = [
  {
    displayName: "Phone Number",
    name: "phone",
    type: "string",
    required: true,
    default: "",
    placeholder: "+14155551234",
    description:
      "The number to call, in any common format: +14155551234, (415) 555-1234, +44 20 7946 0958. National formats are read in Country (default: the bridge's). Emergency and service numbers are never called.",
    displayOptions: forCall("place"),
    routing: { send: { type: "body", property: "phone" } },
  },
  {
    displayName: "Task",
    name: "task",
    type: "string",
    typeOptions: { rows: 3 },
    required: true,
    default: "",
    placeholder: "Reserve a table for 4 at 8pm",
    description: "What the AI should accomplish on the call, 10–1000 characters",
    displayOptions: forCall("place"),
    routing: { send: { type: "body", property: "task" } },
  },
  {
    displayName: "Category",
    name: "category",
    type: "options",
    options: [
      { name: "Clinic", value: "clinic" },
      { name: "General", value: "general" },
      { name: "Hotel", value: "hotel" },
      { name: "Restaurant", value: "restaurant" },
    ],
    default: "general",
    description: "What kind of business is called",
    displayOptions: forCall("place"),
    routing: { send: { type: "body", property: "category" } },
  },
  {
    displayName: "Language",
    name: "language",
    type: "options",
    options: LANGUAGES,
    default: "en",
    description: "The language of the request and of the report",
    displayOptions: forCall("place"),
    routing: { send: { type: "body", property: "language" } },
  },
  {
    displayName: "Idempotency Key",
    name: "idempotencyKey",
    type: "string",
    default: "={{ $execution.id }}-{{ $itemIndex }}",
    description:
      "Sending the same key again within 24 hours answers the first call instead of placing a second one. The default is unique per execution and item, so a retried node places no duplicate; map something unique to what started the workflow (a row or message ID) to make replays safe too. Empty: no key.",
    displayOptions: forCall("place"),
    routing: { request: { headers: { "Idempotency-Key": "={{ $value }}" } } },
  },
  {
    displayName: "Additional Fields",
    name: "additionalFields",
    type: "collection",
    placeholder: "Add Field",
    default: {},
    displayOptions: forCall("place"),
    options: [
      {
        displayName: "Business Name",
        name: "business",
        type: "string",
        default: "",
        placeholder: "Italian Bistro",
        description: "The name of the business being called",
        routing: { send: { type: "body", property: "business" } },
      },
      {
        displayName: "Call Language",
        name: "call_language",
        type: "options",
        options: LANGUAGES,
        default: "en",
        description: "The language spoken on the call, if not the same as Language",
        routing: { send: { type: "body", property: "call_language" } },
      },
      {
        displayName: "Country",
        name: "country",
        type: "string",
        default: "",
        placeholder: "US",
        description: "Two letters (US, GB, ES…): how to read phone numbers written without a country code",
        routing: { send: { type: "body", property: "country" } },
      },
      {
        displayName: "Date",
        name: "date",
        type: "string",
        default: "",
        placeholder: "2026-01-28",
        description: "The date of the reservation or appointment, as YYYY-MM-DD",
        routing: { send: { type: "body", property: "date" } },
      },
      {
        displayName: "Instructions",
        name: "instructions",
        type: "string",
        typeOptions: { rows: 3 },
        default: "",
        placeholder: "Ask for a window table",
        description: "Extra instructions for the AI, one per line (at most 20)",
        routing: { send: { type: "body", property: "instructions" } },
      },
      {
        displayName: "Party Size",
        name: "party_size",
        type: "number",
        typeOptions: { minValue: 1, maxValue: 50 },
        default: 2,
        description: "How many people, 1–50 (reservations)",
        routing: { send: { type: "body", property: "party_size" } },
      },
      {
        displayName: "Time",
        name: "time",
        type: "string",
        default: "",
        placeholder: "20:00",
        description: "The time, as HH:MM on a 24-hour clock",
        routing: { send: { type: "body", property: "time" } },
      },
      {
        displayName: "Time Preference",
        name: "time_preference",
        type: "string",
        default: "",
        placeholder: "morning before 11am",
        description: "Free text when there is no exact time",
        routing: { send: { type: "body", property: "time_preference" } },
      },
      {
        displayName: "Time Zone",
        name: "timezone",
        type: "string",
        default: "",
        placeholder: "America/New_York",
        description: "An IANA time zone for the date and time. Default: this workflow's time zone.",
        routing: { send: { type: "body", property: "timezone" } },
      },
      {
        displayName: "Urgent",
        name: "urgent",
        type: "boolean",
        default: false,
        description: "Whether to mark the call as urgent",
        routing: { send: { type: "body", property: "urgent" } },
      },
      {
        displayName: "Your Name",
        name: "name",
        type: "string",
        default: "",
        placeholder: "John Smith",
        description: "The name to give, e.g. for a reservation",
        routing: { send: { type: "body", property: "name" } },
      },
      {
        displayName: "Your Phone Number",
        name: "user_phone",
        type: "string",
        default: "",
        description: "Your own number, if the business should be able to call you back",
        routing: { send: { type: "body", property: "user_phone" } },
      },
    ],
  },
];

const callIdField: INodeProperties = {
  displayName: "Call ID",
  name: "callId",
  type: "string",
  required: true,
  default: "",
  placeholder: "6f1c2a9e-3b7d-4c21-9a55-0d2e8f7b1c34",
  description: "The ID of the call, as Place or Get Many answered it",
  displayOptions: forCall("get", "getTranscript", "cancel"),
};

const getFields: INodeProperties[] = [
  {
    displayName: "Wait (Seconds)",
    name: "wait",
    type: "number",
    typeOptions: { minValue: 0, maxValue: 25 },
    default: 0,
    description:
      "Hold the request up to this many seconds (at most 25) until the call has ended, then answer. 0 answers at once. Loop on it, or use the KallyAI Trigger, for calls that take minutes.",
    displayOptions: forCall("get"),
    routing: { send: { type: "query", property: "wait" } },
  },
];

const getManyFields: INodeProperties[] = [
  {
    displayName: "Return All",
    name: "returnAll",
    type: "boolean",
    default: false,
    description: "Whether to return all results or only up to a given limit",
    displayOptions: forCall("getAll"),
    routing: {
      send: {
        paginate: "={{ $value }}",
        type: "query",
        property: "limit",
        value: "={{ $parameter.paging?.pageSize ?? 100 }}",
      },
      operations: {
        pagination: {
          type: "generic",
          properties: {
            // Each page's next_cursor asks for the next one; the last page has none.
            continue: "={{ !!$response.body?.next_cursor }}",
            request: {
              qs: {
                limit: "={{ $request.qs?.limit }}",
                status: "={{ $request.qs?.status }}",
                cursor: "={{ $response.body?.next_cursor }}",
              },
            },
          },
        },
      },
    },
  },
  {
    displayName: "Paging",
    name: "paging",
    type: "collection",
    placeholder: "Add Option",
    default: {},
    displayOptions: { show: { resource: ["call"], operation: ["getAll"], returnAll: [true] } },
    options: [
      {
        displayName: "Page Size",
        name: "pageSize",
        type: "number",
        typeOptions: { minValue: 1, maxValue: 100 },
        default: 100,
        description: "How many calls each request to the bridge fetches while following next_cursor (1–100)",
      },
    ],
  },
  {
    displayName: "Limit",
    name: "limit",
    type: "number",
    typeOptions: { minValue: 1, maxValue: 100 },
    default: 50,
    description: "Max number of results to return",
    displayOptions: { show: { resource: ["call"], operation: ["getAll"], returnAll: [false] } },
    routing: { send: { type: "query", property: "limit" }, output: { maxResults: "={{ $value }}" } },
  },
  {
    displayName: "Filters",
    name: "filters",
    type: "collection",
    placeholder: "Add Filter",
    default: {},
    displayOptions: forCall("getAll"),
    options: [
      {
        displayName: "Status",
        name: "status",
        type: "multiOptions",
        options: STATUSES,
        default: [],
        description: "Only calls with one of these statuses",
        routing: { send: { type: "query", property: "status", value: '={{ $value.join(",") }}' } },
      },
    ],
  },
];

export const callDescription: INodeProperties[] = [
  operation,
  ...placeFields,
  callIdField,
  ...getFields,
  ...getManyFields,
];
