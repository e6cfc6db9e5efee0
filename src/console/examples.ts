/** Example requests filled with this bridge's own URLs: trigger URLs and the recipes use them. */

const PLACEHOLDER = /\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g;

/** The names a template waits for, e.g. ["value1"]. */
export function placeholdersOf(template: Record<string, unknown>): string[] {
  const names = new Set<string>();
  for (const value of Object.values(template))
    if (typeof value === "string") for (const [, name] of value.matchAll(PLACEHOLDER)) if (name) names.add(name);
  return [...names];
}

const SAMPLE: Record<string, string> = { value1: "oat milk", value2: "tomorrow", value3: "2" };
const sampleOf = (name: string) => SAMPLE[name] ?? `your ${name}`;

/**
 * One complete Shortcut: an "Ask for Input" per placeholder, a run key, one request that places the
 * call and waits up to 25 s for its end, and Siri saying the answer. One request only: a second one
 * to the trigger URL would place a second call.
 */
function shortcutSteps(url: string, placeholders: string[]): string {
  const asks = placeholders.map(
    (p) => `Ask for Input — Prompt “${p === "value1" ? "What should I ask about?" : `Your ${p}?`}”, Input Type Text`,
  );
  const ask = (p: string) =>
    asks.length > 1 ? `Provided Input of action ${placeholders.indexOf(p) + 1}` : "Provided Input";
  const steps = [
    ...asks,
    "Text — Current Date (ISO 8601, with time) followed by a Random Number (1 to 1,000,000,000): a key unique to this run",
    [
      `Get Contents of URL: ${url}?wait=25&format=text`,
      "     Method POST; Headers: Idempotency-Key = the Text above (a retried run places no second call)",
      placeholders.length
        ? `     Request Body JSON: ${placeholders.map((p) => `${p} = ${ask(p)}`).join(", ")}`
        : "     Request Body: none",
    ].join("\n"),
    "Speak Text — Contents of URL: how the call went if it ended within 25 s, otherwise “Calling … now.”",
  ];
  return steps.map((step, i) => `${i + 1}. ${step}`).join("\n");
}

export function triggerExamples(url: string, placeholders: string[]): Array<{ label: string; value: string }> {
  const query = new URLSearchParams(placeholders.map((p) => [p, sampleOf(p)]));
  const withQuery = (extra: Record<string, string>) => {
    const q = new URLSearchParams(query);
    for (const [k, v] of Object.entries(extra)) q.set(k, v);
    const s = q.toString();
    return s ? `${url}?${s}` : url;
  };
  const body = JSON.stringify(Object.fromEntries(placeholders.map((p) => [p, sampleOf(p)])));
  return [
    { label: "iOS Shortcuts (one Shortcut, its actions in order)", value: shortcutSteps(url, placeholders) },
    {
      label: "IFTTT (Webhooks → Make a web request)",
      value: [
        `URL: ${url}`,
        "Method: POST",
        "Content Type: application/json",
        `Body: ${placeholders.length ? JSON.stringify(Object.fromEntries(placeholders.map((p) => [p, `{{${p === "value1" ? "TextField" : p}}}`]))) : "{}"}`,
      ].join("\n"),
    },
    { label: "curl", value: `curl -X POST '${url}' -H 'content-type: application/json' -d '${body}'` },
    { label: "A link (GET)", value: withQuery({}) },
  ];
}
