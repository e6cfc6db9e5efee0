/**
 * The recipes of docs/platforms.md as data: for each platform, what to click and the exact request
 * the platform then sends. That file's recipe sections are rendered from here (`npm run docs`), the console
 * shows them with the bridge's own URL, and test/recipes sends every one of them to the bridge
 * byte for byte, with each platform's own User-Agent and Accept, so the three cannot drift.
 *
 * Pure data and string functions: no Node or Workers API, importable anywhere.
 *
 * Placeholders are written `<like this>`: `<bridge>` in URLs, and values the person fills in
 * (`<key>`, `<call id>`, …). Everything else is sent exactly as written.
 */

export type PlatformId = "zapier" | "n8n" | "make" | "ifttt" | "shortcuts" | "curl";
/** Where a recipe stands in docs/platforms.md: a platform's section, or one of the API's own sections. */
export type SectionId = PlatformId | "trigger-urls" | "webhooks";

/** Who sends a request, and the headers it adds by itself (from captured requests of each platform). */
export interface Client {
  name: string;
  headers: Record<string, string>;
}

export const CLIENTS: Record<PlatformId, Client> = {
  curl: { name: "curl", headers: { "User-Agent": "curl/8.5.0", Accept: "*/*" } },
  shortcuts: {
    name: "iOS Shortcuts",
    headers: {
      "User-Agent": "Shortcuts/1146.1 CFNetwork/1490.0.4 Darwin/23.2.0",
      Accept: "*/*",
      "Accept-Language": "en-US,en;q=0.9",
    },
  },
  zapier: { name: "Webhooks by Zapier", headers: { "User-Agent": "Zapier", Accept: "*/*" } },
  ifttt: { name: "IFTTT Webhooks", headers: { "User-Agent": "IFTTT-Protocol/v1", Accept: "*/*" } },
  make: { name: "Make HTTP", headers: { "User-Agent": "Make/production", "Accept-Encoding": "gzip, br, deflate" } },
  // n8n's HTTP Request node (axios) with Response Format "autodetect".
  n8n: {
    name: "n8n HTTP Request",
    headers: {
      "User-Agent": "axios/1.12.0",
      Accept: "application/json,text/html,application/xhtml+xml,application/xml,text/*;q=0.9, image/*;q=0.8, */*;q=0.7",
    },
  },
};

export type RecipeBody =
  /** Serialised by the platform with JSON.stringify; numbers the person typed into text fields stay strings. */
  | { type: "json"; contentType: string; json: Record<string, unknown> }
  /** Sent exactly as written (IFTTT and curl -d do not URL-encode what you type). */
  | { type: "form"; text: string }
  /** A multipart form, one part per field, empty fields included (iOS Shortcuts' "Form"). */
  | { type: "multipart"; fields: [string, string][] };

export interface Recipe {
  id: string;
  /** The section of docs/platforms.md it belongs to. */
  section: SectionId;
  /** Who sends it: the platform itself, or curl (e.g. to subscribe a platform's hook URL). */
  client: PlatformId;
  title: string;
  /** What to set up, in the platform's own words (markdown). */
  steps: string;
  method: "GET" | "POST";
  /** Path and query after the bridge's URL. */
  path: string;
  /** Headers the person adds (the platform's own ones are in CLIENTS). */
  headers: Record<string, string>;
  body?: RecipeBody;
  /** What the bridge answers: status, and JSON or a sentence. */
  answers: { status: number; type: "json" | "text" };
}

const PLACE = {
  phone: "+14155551234",
  task: "Reserve a table for 4 at 8pm",
  category: "restaurant",
  business: "Italian Bistro",
};

export const RECIPES: Recipe[] = [
  // ── Zapier, without the integration ──────────────────────────────────────────────────────────
  {
    id: "zapier-place-call",
    section: "zapier",
    client: "zapier",
    title: "Action — place a call",
    steps:
      "**Webhooks by Zapier → POST**. URL `<bridge>/v1/calls`, Payload Type **json**, Data `phone`, `task` and any other call field (mapped from the trigger; fields left empty count as absent). Headers `X-API-Key` and `Idempotency-Key` = the trigger item's ID, so a replayed run places no second call.",
    method: "POST",
    path: "/v1/calls",
    headers: { "X-API-Key": "<key>", "Idempotency-Key": "<trigger item id>" },
    body: {
      type: "json",
      contentType: "application/json; charset=utf-8",
      json: { ...PLACE, party_size: "4", date: "", time: "" },
    },
    answers: { status: 202, type: "json" },
  },
  {
    id: "zapier-catch-hook",
    section: "zapier",
    client: "curl",
    title: "Trigger — when a call ends",
    steps: "**Webhooks by Zapier → Catch Hook**, then subscribe the hook's URL once:",
    method: "POST",
    path: "/v1/webhooks",
    headers: { "X-API-Key": "<key>" },
    body: {
      type: "json",
      contentType: "application/json",
      json: { url: "https://hooks.zapier.com/hooks/catch/123/abc/", events: ["call.completed"] },
    },
    answers: { status: 201, type: "json" },
  },
  {
    id: "zapier-retrieve-poll",
    section: "zapier",
    client: "zapier",
    title: "Trigger without a subscription",
    steps:
      "**Webhooks by Zapier → Retrieve Poll**, URL `<bridge>/v1/events?type=call.completed`, Headers `X-API-Key`. Items are newest first, each with a unique `id`: Zapier dedupes on it.",
    method: "GET",
    path: "/v1/events?type=call.completed",
    headers: { "X-API-Key": "<key>" },
    answers: { status: 200, type: "json" },
  },

  // ── n8n ────────────────────────────────────────────────────────────────────────────────────
  {
    id: "n8n-place-call",
    section: "n8n",
    client: "n8n",
    title: "Place a call",
    steps:
      "Node **HTTP Request**: Method POST, URL `<bridge>/v1/calls`, Authentication *Generic Credential Type → Header Auth* (Name `X-API-Key`, Value your key), Send Headers `Idempotency-Key` = `{{ $execution.id }}`, Send Body *JSON* → *Using Fields Below*: `phone`, `task`, … (values are sent as text; the bridge reads numbers from text).",
    method: "POST",
    path: "/v1/calls",
    headers: { "X-API-Key": "<key>", "Idempotency-Key": "<execution id>" },
    body: { type: "json", contentType: "application/json", json: { ...PLACE, party_size: "4" } },
    answers: { status: 202, type: "json" },
  },
  {
    id: "n8n-subscribe",
    section: "n8n",
    client: "curl",
    title: "When a call finishes",
    steps: "Node **Webhook** (HTTP Method POST); subscribe its *Production URL* once:",
    method: "POST",
    path: "/v1/webhooks",
    headers: { "X-API-Key": "<key>" },
    body: {
      type: "json",
      contentType: "application/json",
      json: { url: "https://n8n.example.com/webhook/kallyai-call-finished", events: ["call.completed"] },
    },
    answers: { status: 201, type: "json" },
  },

  // ── Make ───────────────────────────────────────────────────────────────────────────────────
  {
    id: "make-place-call",
    section: "make",
    client: "make",
    title: "Place a call",
    steps:
      'Module **HTTP → Make a request**: URL `<bridge>/v1/calls`, Method POST, Headers `X-API-Key` and `Idempotency-Key` = `{{1.id}}` (the trigger bundle\'s ID), Body type **Raw**, Content type **JSON (application/json)**, Request content `{"phone": "{{1.phone}}", "task": "{{1.task}}"}`, **Parse response** Yes. Make sends the mapped values:',
    method: "POST",
    path: "/v1/calls",
    headers: { "X-API-Key": "<key>", "Idempotency-Key": "<bundle id>" },
    body: {
      type: "json",
      contentType: "application/json",
      json: { phone: "+14155551234", task: "Ask about store hours today" },
    },
    answers: { status: 202, type: "json" },
  },
  {
    id: "make-subscribe",
    section: "make",
    client: "curl",
    title: "When a call finishes",
    steps: "Module **Webhooks → Custom webhook**; copy its address and subscribe it once:",
    method: "POST",
    path: "/v1/webhooks",
    headers: { "X-API-Key": "<key>" },
    body: {
      type: "json",
      contentType: "application/json",
      json: { url: "https://hook.eu1.make.com/abc123", events: ["call.completed"] },
    },
    answers: { status: 201, type: "json" },
  },

  // ── IFTTT ──────────────────────────────────────────────────────────────────────────────────
  {
    id: "ifttt-web-request",
    section: "ifttt",
    client: "ifttt",
    title: "That — place a call",
    steps:
      "**Webhooks → Make a web request**: URL `<bridge>/v1/calls`, Method POST, Content Type `application/x-www-form-urlencoded`, Additional Headers `X-API-Key: <key>`, Body as below. IFTTT sends the body exactly as typed: write a phone number's `+` as `%2B` (a bare `+` arrives as a space), or use the national format.",
    method: "POST",
    path: "/v1/calls",
    headers: { "X-API-Key": "<key>" },
    body: { type: "form", text: "phone=%2B14155551234&task=Ask whether they have oat milk in stock" },
    answers: { status: 202, type: "json" },
  },
  {
    id: "ifttt-trigger-url",
    section: "ifttt",
    client: "ifttt",
    title: "That — hit a trigger URL (no header needed)",
    steps:
      "Create a trigger URL (see *Trigger URLs*) whose task holds `{{value1}}`, then **Make a web request** to it: Method POST, Content Type `application/x-www-form-urlencoded`, Body:",
    method: "POST",
    path: "/t/<trigger token>",
    headers: {},
    body: { type: "form", text: "value1=oat milk" },
    answers: { status: 202, type: "json" },
  },
  {
    id: "ifttt-subscribe",
    section: "ifttt",
    client: "curl",
    title: "If — when a call ends",
    steps:
      "Make an applet whose If is **Webhooks → Receive a web request** with an event name, and subscribe it with your Webhooks key (from ifttt.com/maker_webhooks/settings). The bridge then calls IFTTT with `value1` = status, `value2` = highlights, `value3` = next steps:",
    method: "POST",
    path: "/v1/webhooks",
    headers: { "X-API-Key": "<key>" },
    body: {
      type: "json",
      contentType: "application/json",
      json: { kind: "ifttt", event: "kallyai_call_finished", key: "<IFTTT webhooks key>", events: ["call.completed"] },
    },
    answers: { status: 201, type: "json" },
  },

  // ── iOS Shortcuts ──────────────────────────────────────────────────────────────────────────
  {
    id: "shortcuts-place-call",
    section: "shortcuts",
    client: "shortcuts",
    title: "Place a call",
    steps:
      "First a **Text** action holding **Current Date** (format ISO 8601, with time) followed by a **Random Number** (1 to 1,000,000,000): a key unique to each run. Then **Get Contents of URL**: URL `<bridge>/v1/calls`, Method **POST**, Headers `X-API-Key` and `Idempotency-Key` = that Text, Request Body **Form**: `phone` (a contact's number, any format), `task` (Ask for Input), optionally `business`, `party_size`, `date`, `time` (left empty, they count as absent).",
    method: "POST",
    path: "/v1/calls",
    headers: { "X-API-Key": "<key>", "Idempotency-Key": "<run key>" },
    body: {
      type: "multipart",
      fields: [
        ["phone", "(415) 555-1234"],
        ["task", "Reserve a table for 4 at 8pm"],
        ["business", "Italian Bistro"],
        ["party_size", "4"],
        ["date", ""],
        ["time", ""],
      ],
    },
    answers: { status: 202, type: "json" },
  },
  {
    id: "shortcuts-wait",
    section: "shortcuts",
    client: "shortcuts",
    title: "Hear how it went",
    steps:
      '**Get Dictionary Value** `id`, then **Repeat** 10 times: **Get Contents of URL** (GET, same `X-API-Key` header) → **If** the text does not contain "still in progress", **Stop Repeat**; then **Speak Text**. Each request returns as soon as the call ends (or after 25 s). A call that booked something has a calendar event: **Get Contents of URL** `<bridge>/v1/calls/<call id>/calendar.ics` (same header) → **Open File**, and Calendar offers **Add All**:',
    method: "GET",
    path: "/v1/calls/<call id>?wait=25&format=text",
    headers: { "X-API-Key": "<key>" },
    answers: { status: 200, type: "text" },
  },
  {
    id: "shortcuts-usage",
    section: "shortcuts",
    client: "shortcuts",
    title: '"How many minutes do I have left?"',
    steps: "**Get Contents of URL** (GET, `X-API-Key` header) → **Speak Text**:",
    method: "GET",
    path: "/v1/usage?format=text",
    headers: { "X-API-Key": "<key>" },
    answers: { status: 200, type: "text" },
  },

  // ── curl ───────────────────────────────────────────────────────────────────────────────────
  {
    id: "curl-me",
    section: "curl",
    client: "curl",
    title: "Check a key",
    steps: "Who it belongs to, its scopes, and whether the KallyAI account is linked:",
    method: "GET",
    path: "/v1/me",
    headers: { Authorization: "Bearer <key>" },
    answers: { status: 200, type: "json" },
  },
  {
    id: "curl-new-key",
    section: "curl",
    client: "curl",
    title: "A key for one tool",
    steps: "With the key from signing in (only it may manage keys):",
    method: "POST",
    path: "/v1/keys",
    headers: { Authorization: "Bearer <key>" },
    body: {
      type: "json",
      contentType: "application/json",
      json: { name: "cron job", scopes: ["calls:write", "calls:read"], calls_per_hour: 5 },
    },
    answers: { status: 201, type: "json" },
  },
  {
    id: "curl-place-call",
    section: "curl",
    client: "curl",
    title: "Place a call",
    steps: "Form fields, a phone number as written on a contact card:",
    method: "POST",
    path: "/v1/calls",
    headers: { "X-API-Key": "<key>", "Idempotency-Key": "demo-1" },
    body: {
      type: "form",
      text: "phone=(415) 555-1234&task=Reserve a table for 4 at 8pm&category=restaurant&business=Italian Bistro&party_size=4",
    },
    answers: { status: 202, type: "json" },
  },
  {
    id: "curl-wait",
    section: "curl",
    client: "curl",
    title: "Its outcome, as a sentence",
    steps: "Holds until the call ends (at most 25 s):",
    method: "GET",
    path: "/v1/calls/<call id>?wait=25&format=text",
    headers: { "X-API-Key": "<key>" },
    answers: { status: 200, type: "text" },
  },
  {
    id: "curl-history",
    section: "curl",
    client: "curl",
    title: "Recent successful calls",
    steps: "Newest first:",
    method: "GET",
    path: "/v1/calls?limit=5&status=success",
    headers: { "X-API-Key": "<key>" },
    answers: { status: 200, type: "json" },
  },
  // ── Trigger URLs ───────────────────────────────────────────────────────────────────────────
  {
    id: "trigger-create",
    section: "trigger-urls",
    client: "curl",
    title: "Create one",
    steps:
      "A template of call fields; the answer's `url` is shown once (the URL is the credential: keep it to yourself):",
    method: "POST",
    path: "/v1/triggers",
    headers: { "X-API-Key": "<key>" },
    body: {
      type: "json",
      contentType: "application/json",
      json: {
        name: "Oat milk",
        phone: "+14155551234",
        business: "Corner Shop",
        task: "Ask whether they have {{value1}} in stock",
      },
    },
    answers: { status: 201, type: "json" },
  },
  {
    id: "trigger-hit",
    section: "trigger-urls",
    client: "curl",
    title: "Hit it",
    steps: "GET or POST, with fields as JSON, a form or the query string; no key needed:",
    method: "GET",
    path: "/t/<trigger token>?value1=oat%20milk",
    headers: {},
    answers: { status: 202, type: "json" },
  },

  // ── Webhooks and the events feed ───────────────────────────────────────────────────────────
  {
    id: "webhook-subscribe",
    section: "webhooks",
    client: "curl",
    title: "Subscribe",
    steps: "The answer (201) carries the `whsec_…` secret, shown once:",
    method: "POST",
    path: "/v1/webhooks",
    headers: { "X-API-Key": "<key>" },
    body: {
      type: "json",
      contentType: "application/json",
      json: { url: "https://hooks.zapier.com/hooks/catch/123/abc/", events: ["call.completed"] },
    },
    answers: { status: 201, type: "json" },
  },
  {
    id: "events-feed",
    section: "webhooks",
    client: "curl",
    title: "Or poll the feed",
    steps: "The same events, newest first:",
    method: "GET",
    path: "/v1/events?type=call.completed&limit=10",
    headers: { "X-API-Key": "<key>" },
    answers: { status: 200, type: "json" },
  },
];

export const PLATFORM_NAMES: Record<PlatformId, string> = {
  zapier: "Zapier",
  n8n: "n8n",
  make: "Make",
  ifttt: "IFTTT",
  shortcuts: "iOS Shortcuts",
  curl: "curl",
};
export const SECTION_NAMES: Record<SectionId, string> = {
  ...PLATFORM_NAMES,
  "trigger-urls": "Trigger URLs",
  webhooks: "Webhooks and the events feed",
};

/** The placeholders a recipe leaves for the person (`<key>`, `<call id>`, …), without `<bridge>`. */
export function placeholdersOf(recipe: Recipe): string[] {
  const text = [recipe.path, ...Object.values(recipe.headers), recipe.body ? bodyText(recipe.body, "") : ""].join("\n");
  return [...new Set(text.match(/<[A-Za-z][A-Za-z ]*>/g) ?? [])];
}

const fill = (text: string, values: Record<string, string>) =>
  text.replace(/<[A-Za-z][A-Za-z ]*>/g, (p) => values[p] ?? p);

export const MULTIPART_BOUNDARY = "Boundary-6D1E0A4C-2F7B-4B8E-9C3D-5A1F2E3B4C5D";

function bodyText(body: RecipeBody, boundary: string): string {
  if (body.type === "json") return JSON.stringify(body.json);
  if (body.type === "form") return body.text;
  const parts = body.fields.map(
    ([name, value]) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`,
  );
  return `${parts.join("")}--${boundary}--\r\n`;
}

const contentTypeOf = (body: RecipeBody) =>
  body.type === "json"
    ? body.contentType
    : body.type === "form"
      ? "application/x-www-form-urlencoded"
      : `multipart/form-data; boundary=${MULTIPART_BOUNDARY}`;

/** The request exactly as the recipe's client sends it, with placeholders filled from `values`. */
export function wireRequest(recipe: Recipe, base: string, values: Record<string, string> = {}) {
  const headers: Record<string, string> = { ...CLIENTS[recipe.client].headers };
  if (recipe.body) headers["Content-Type"] = contentTypeOf(recipe.body);
  for (const [name, value] of Object.entries(recipe.headers)) headers[name] = fill(value, values);
  return {
    method: recipe.method,
    url: base + fill(recipe.path, values),
    headers,
    body: recipe.body ? fill(bodyText(recipe.body, MULTIPART_BOUNDARY), values) : undefined,
  };
}

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** A curl command sending the recipe's request (what `client: "curl"` recipes show). */
export function curlCommand(recipe: Recipe, base: string): string {
  const lines = [`curl -s${recipe.method === "GET" ? "" : ` -X ${recipe.method}`} ${shellQuote(base + recipe.path)}`];
  for (const [name, value] of Object.entries(recipe.headers)) lines.push(`-H ${shellQuote(`${name}: ${value}`)}`);
  if (recipe.body?.type === "json")
    lines.push(
      `-H ${shellQuote(`Content-Type: ${recipe.body.contentType}`)}`,
      `-d ${shellQuote(JSON.stringify(recipe.body.json))}`,
    );
  if (recipe.body?.type === "form")
    for (const pair of recipe.body.text.split("&")) lines.push(`-d ${shellQuote(pair)}`);
  if (recipe.body?.type === "multipart")
    for (const [name, value] of recipe.body.fields) lines.push(`-F ${shellQuote(`${name}=${value}`)}`);
  return lines.join(" \\\n  ");
}

/** What a platform sends, as an HTTP message (its own User-Agent and Accept left out). */
export function httpMessage(recipe: Recipe, base: string): string {
  const head = [`${recipe.method} ${base}${recipe.path}`];
  if (recipe.body && recipe.body.type !== "multipart") head.push(`Content-Type: ${contentTypeOf(recipe.body)}`);
  if (recipe.body?.type === "multipart") head.push("Content-Type: multipart/form-data");
  for (const [name, value] of Object.entries(recipe.headers)) head.push(`${name}: ${value}`);
  if (!recipe.body) return head.join("\n");
  const body =
    recipe.body.type === "multipart"
      ? recipe.body.fields.map(([name, value]) => `${name}:${value ? ` ${value}` : ""}`).join("\n")
      : bodyText(recipe.body, "");
  return `${head.join("\n")}\n\n${body}`;
}

/** One recipe in markdown: its steps, then the request (a curl command, or the platform's HTTP message). */
export function renderRecipe(recipe: Recipe, base: string): string {
  const steps = recipe.steps.replaceAll("<bridge>", base);
  const fence = "```";
  const block =
    recipe.client === "curl"
      ? `${fence}sh\n${curlCommand(recipe, base)}\n${fence}`
      : `${fence}http\n${httpMessage(recipe, base)}\n${fence}`;
  return `**${recipe.title}.** ${steps}\n\n${block}`;
}

/** Every recipe of a section, in order: what docs/platforms.md shows between its recipe markers. */
export function renderSection(section: SectionId, base: string): string {
  return RECIPES.filter((r) => r.section === section)
    .map((r) => renderRecipe(r, base))
    .join("\n\n");
}

/** The URL the recipes in docs/platforms.md are written with. */
export const DOCS_BASE = "https://<bridge>";
