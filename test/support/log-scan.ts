/**
 * Production logs must never hold a token, a code or an API key. Every line the Worker writes to
 * the console during a test file is kept here, and every secret the tests saw go by (in an answer
 * of the bridge, of the sandbox or in a redirect) is harvested; after the file, test/support/setup.ts
 * asserts that no line holds one, nor anything shaped like one.
 */
const lines: string[] = [];
const secrets = new Set<string>();

/** Shapes of secrets, for those no answer showed the tests (e.g. a token minted by a refresh inside the bridge). */
export const SECRET_SHAPES: ReadonlyArray<readonly [name: string, shape: RegExp]> = [
  ["JWT (API key or access token)", /eyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]{8,}/],
  ["sandbox refresh token", /sbx_rt_[\w-]{8,}/],
  ["sandbox authorization code", /sbx_code_[\w-]{8,}/],
  ["webhook secret", /whsec_[\w+/=]{8,}/],
];

/** Secret-bearing fields of an answer's JSON (never inside its `error`) and of a redirect's query. */
const SECRET_FIELDS = new Set(["api_key", "access_token", "refresh_token", "secret", "token", "accessToken"]);
const SECRET_PARAMS = new Set([...SECRET_FIELDS, "code"]);

/** Starts keeping the console's lines (once per test file: setup files run per file). */
export function captureConsole(): void {
  for (const level of ["log", "info", "warn", "error", "debug"] as const) {
    const original = console[level].bind(console);
    console[level] = (...args: unknown[]) => {
      lines.push(args.map((a) => (typeof a === "string" ? a : safeJson(a))).join(" "));
      original(...args);
    };
  }
}

const safeJson = (value: unknown) => {
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
};

/** Keeps a value as a secret when it looks like one: long, no spaces, letters and digits. */
export function noteSecret(value: unknown): void {
  if (typeof value === "string" && value.length >= 16 && !/\s/.test(value) && /\d/.test(value) && /[a-z]/i.test(value))
    secrets.add(value);
}

/** Collects the secrets in a JSON value: the fields above, and trigger URLs' tokens. */
function harvestJson(value: unknown): void {
  if (Array.isArray(value)) {
    for (const item of value) harvestJson(item);
    return;
  }
  if (typeof value !== "object" || value === null) return;
  for (const [field, v] of Object.entries(value)) {
    if (field === "error") continue;
    if (SECRET_FIELDS.has(field)) noteSecret(v);
    if (field === "url" && typeof v === "string") noteSecret(/\/t\/([\w-]{20,})/.exec(v)?.[1]);
    harvestJson(v);
  }
}

/** Harvests what a response shows: its redirect's query and, for JSON, its body (read from a clone). */
export function harvestResponse(res: Response): void {
  const location = res.headers.get("location");
  if (location) {
    const url = URL.parse(location, "http://x");
    for (const [name, value] of url?.searchParams ?? []) if (SECRET_PARAMS.has(name)) noteSecret(value);
  }
  for (const cookie of res.headers.getSetCookie()) noteSecret(/^[^=]+=([^;]+)/.exec(cookie)?.[1]);
  if (!res.headers.get("content-type")?.includes("json") || !res.body) return;
  res
    .clone()
    .json()
    .then(harvestJson, () => undefined);
}

/** What a line gives away: the secrets (by the first characters only) and shapes found in it. */
export function leaksIn(line: string, known: Iterable<string> = secrets): string[] {
  const found: string[] = [];
  for (const secret of known) if (line.includes(secret)) found.push(`a secret the tests saw (${secret.slice(0, 6)}…)`);
  for (const [name, shape] of SECRET_SHAPES) if (shape.test(line)) found.push(name);
  return found;
}

/** Every captured line that leaks something, with what it leaks. */
export function leakingLines(): string[] {
  return lines.flatMap((line) => {
    const found = leaksIn(line);
    return found.length ? [`${found.join(", ")} in: ${line.slice(0, 200)}`] : [];
  });
}

/** How many lines were captured (so a check can show it looked at something). */
export const capturedLines = () => lines.length;
