import { z } from "@hono/zod-openapi";
import { billingPortal, subscription, usage } from "../domain/account";
import type { Authenticated } from "../domain/api-keys";
import { alreadyPlaced, cancelCall, listCalls, placeCall, transcript } from "../domain/calls";
import type { Deps } from "../domain/deps";
import type { Scope } from "../domain/key-signing";
import { transcriptText, usageSentence } from "../domain/speech";
import {
  CallId,
  CallSchema,
  PageQuery,
  PlacedSchema,
  SubscriptionSchema,
  TranscriptSchema,
  UsageSchema,
  WaitSeconds,
} from "../shared/api-schemas";
import { CallInputSchema } from "../shared/call-input";
import { fieldError, parseCallRequest } from "../shared/call-request";
import { CALL_STATUSES } from "../shared/call-status";
import { sha256Hex } from "../shared/encoding";
import { callsText, callText, placedText, subscriptionText } from "./text";
import type { CallWaits } from "./waits";

/** What a tool runs with: the bridge's dependencies, the key that called, and the request's waits. */
export interface ToolContext {
  d: Deps;
  auth: Authenticated;
  waits: CallWaits;
}

export interface ToolAnswer<T> {
  data: T;
  text: string;
}

/**
 * One MCP tool over the bridge's domain functions. `input` is the zod schema the REST API validates
 * the same thing with; `hints` adds descriptions for a model to the JSON Schema made from it.
 */
export interface BridgeTool<I extends z.ZodType = z.ZodType, O extends z.ZodType = z.ZodType, A = z.output<I>> {
  name: string;
  title: string;
  description: string;
  scope: Scope;
  readOnly: boolean;
  destructive?: boolean;
  input: I;
  hints: Record<string, string>;
  output: O;
  /** Validates the arguments; by default with `input`, turning the first issue into a 422 like REST. */
  parse?: (args: Record<string, unknown>) => A;
  run(ctx: ToolContext, args: A): Promise<ToolAnswer<z.output<O>>>;
}

const tool = <I extends z.ZodType, O extends z.ZodType, A = z.output<I>>(t: BridgeTool<I, O, A>) =>
  t as unknown as BridgeTool;

/** A placement repeated with the same details within this window is the same call, not a second one. */
export const DERIVED_KEY_WINDOW_MS = 10 * 60_000;

const CALL_ID_HINT = "The call's id, as place_call or list_calls gave it.";

const GetCallInput = CallId.extend({ wait: WaitSeconds.optional() });
const ListCallsInput = PageQuery.extend({
  status: z.array(z.enum(CALL_STATUSES)).max(10).optional(),
});
const CallsPage = z.object({ items: z.array(CallSchema), next_cursor: z.string().nullable() });
const NoInput = z.object({});

export const TOOLS: BridgeTool[] = [
  tool<typeof CallInputSchema, typeof PlacedSchema, Record<string, unknown>>({
    name: "place_call",
    title: "Place a phone call",
    description: [
      "Places a real phone call: KallyAI's AI voice assistant calls a business on the user's behalf (a restaurant, clinic, hotel or any other business) to book, ask or arrange something, then reports what happened.",
      "Before calling, gather the details from the user and do not invent any: the phone number to call, what to accomplish, and the category (restaurant, clinic, hotel or general).",
      "For a reservation or appointment also ask for the name to book under, the date (YYYY-MM-DD), the time (HH:MM, 24-hour) and, for restaurants, the party size. Confirm the details with the user before calling.",
      "Numbers may be in international (+14155551234) or national format; set country (e.g. US, ES, GB) for a national number from elsewhere than the bridge's default country. Emergency and service numbers (911, 112, …) are refused: tell the user to call them directly.",
      "The call takes a minute or more. Afterwards use get_call with this call's id and wait=25 (repeat while it is still running) and tell the user the highlights and next steps.",
      "Retrying with the same details within 10 minutes returns the call already placed instead of calling twice; to deliberately call again with the same details, send a new idempotency_key.",
    ].join(" "),
    scope: "calls:write",
    readOnly: false,
    input: CallInputSchema,
    hints: {
      phone: "The business's phone number, e.g. +14155551234 or (415) 555-1234.",
      task: "What the AI should accomplish on the call, in a sentence or two, e.g. 'Reserve a table for 4 at 8pm tonight under John Smith'.",
      category: "restaurant, clinic, hotel or general (default).",
      language: "Language of the call and of its summary: en (default) or es.",
      call_language: "Language spoken on the call if it differs from language: en or es.",
      name: "The name to book under.",
      business: "The business's name.",
      party_size: "Number of people (1-50), for restaurants.",
      date: "Date of the reservation or appointment, YYYY-MM-DD.",
      time: "Time of the reservation or appointment, HH:MM (24-hour).",
      time_preference: "A flexible time wish, e.g. 'morning before 11am'.",
      timezone: "The user's IANA time zone, e.g. America/New_York (default: the bridge's).",
      user_phone: "The user's own phone number, if the business should be able to call back.",
      urgent: "true if the call is urgent.",
      instructions: "Extra instructions for the AI caller, one per item.",
      country: "Two-letter country code for reading a national-format number, e.g. US, ES, GB.",
      idempotency_key: "Optional. The same key within 24 hours returns the first call instead of calling again.",
    },
    output: PlacedSchema,
    // The very parser of POST /v1/calls: the same fields, normalisation and refusals.
    parse: (args) => args,
    async run({ d, auth }, args) {
      const request = parseCallRequest(args, d.cfg.defaults);
      const given = typeof args.idempotency_key === "string" ? args.idempotency_key.trim() : "";
      const key = given || (await derivedKey(auth.key.id, request, Date.now()));
      const replayed = await alreadyPlaced(d, auth.userId, key);
      const placed = await placeCall(d, auth, request, key);
      return { data: placed, text: placedText(placed, request, replayed) };
    },
  }),
  tool({
    name: "get_call",
    title: "Get a call's status and outcome",
    description:
      "Reads one call: its status (queued, in_progress; then success, no_answer, busy, failed, voicemail, cancelled or expired), highlights (what was agreed or learned), next steps, and the details it was placed with. Set wait (up to 25 seconds) to hold until the call ends; while it is still running, call again. One request waits 25 seconds at most in all, however many reads it holds.",
    scope: "calls:read",
    readOnly: true,
    input: GetCallInput,
    hints: { id: CALL_ID_HINT, wait: "Seconds to wait for the call to end, 0-25 (default 0: answer at once)." },
    output: CallSchema,
    async run({ waits }, { id, wait }) {
      const call = await waits.wait(id, wait ?? 0);
      return { data: call, text: callText(call) };
    },
  }),
  tool({
    name: "list_calls",
    title: "List recent calls",
    description:
      "Lists the user's calls placed through this bridge, newest first, with their outcomes. Filter by status; pass next_cursor back as cursor for the next page.",
    scope: "calls:read",
    readOnly: true,
    input: ListCallsInput,
    hints: {
      limit: "How many calls, 1-100 (default 20).",
      cursor: "next_cursor from the previous page.",
      status: "Only calls with these statuses.",
    },
    output: CallsPage,
    async run({ d, auth }, { limit, cursor, status }) {
      const page = await listCalls(d, auth.userId, { limit, cursor, status });
      return { data: page, text: callsText(page.items, page.next_cursor) };
    },
  }),
  tool({
    name: "get_transcript",
    title: "Get a call's transcript",
    description:
      "What was said on a call, turn by turn (the AI caller and the business). Use it when the user wants the details behind a call's highlights.",
    scope: "calls:read",
    readOnly: true,
    input: CallId,
    hints: { id: CALL_ID_HINT },
    output: TranscriptSchema,
    async run({ d, auth }, { id }) {
      const t = await transcript(d, auth, id);
      return { data: t, text: transcriptText(t.entries) };
    },
  }),
  tool({
    name: "cancel_call",
    title: "Cancel a call",
    description: "Cancels a call that is queued or still in progress. Only when the user asks to stop it.",
    scope: "calls:write",
    readOnly: false,
    destructive: true,
    input: CallId,
    hints: { id: CALL_ID_HINT },
    output: CallSchema,
    async run({ d, auth }, { id }) {
      const call = await cancelCall(d, auth, id);
      return { data: call, text: callText(call) };
    },
  }),
  tool({
    name: "get_usage",
    title: "Minutes and calls left",
    description:
      "The KallyAI minutes and calls allocated, used and remaining this period. Check it when the user asks, or when a call was refused for quota.",
    scope: "account:read",
    readOnly: true,
    input: NoInput,
    hints: {},
    output: UsageSchema,
    async run({ d, auth }) {
      const answer = await usage(d, auth);
      return { data: answer, text: usageSentence(answer) };
    },
  }),
  tool({
    name: "get_subscription",
    title: "Subscription status",
    description:
      "The user's KallyAI plan: whether it is active, its period, minutes included, and when it renews or ends.",
    scope: "account:read",
    readOnly: true,
    input: NoInput,
    hints: {},
    output: SubscriptionSchema,
    async run({ d, auth }) {
      const sub = await subscription(d, auth);
      return { data: sub, text: subscriptionText(sub) };
    },
  }),
  tool({
    name: "billing_portal",
    title: "Billing portal link",
    description:
      "A link to KallyAI's billing portal, where the user upgrades, changes or cancels the plan and sees invoices. Give the link to the user; do not open it yourself.",
    scope: "account:read",
    readOnly: true,
    input: NoInput,
    hints: {},
    output: z.object({ portal_url: z.string() }),
    async run({ d, auth }) {
      const portal = await billingPortal(d, auth);
      return { data: portal, text: `Manage the KallyAI plan and billing here: ${portal.portal_url}` };
    },
  }),
];

export const toolNamed = (name: string) => TOOLS.find((t) => t.name === name);

/** Arguments checked with the tool's schema; the first problem answers like a REST 422. */
export function parseArgs(t: BridgeTool, args: Record<string, unknown>): unknown {
  if (t.parse) return t.parse(args);
  const parsed = t.input.safeParse(args);
  if (!parsed.success) throw fieldError(parsed.error);
  return parsed.data;
}

/** Without a key from the client, one from the key, the call's details and a 10-minute window. */
async function derivedKey(keyId: string, request: unknown, now: number): Promise<string> {
  return `mcp-${await sha256Hex(`${keyId}\n${Math.floor(now / DERIVED_KEY_WINDOW_MS)}\n${JSON.stringify(request)}`)}`;
}
