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
    {
      label: "iOS Shortcuts",
      value: [
        `1. Get Contents of URL: ${url}`,
        "   Method POST, Request Body JSON" +
          (placeholders.length ? `, fields: ${placeholders.map((p) => `${p} (e.g. Ask for Input)`).join(", ")}` : ""),
        "   Header Idempotency-Key: a UUID (Text action “UUID” from Scripting), so a retried run places no second call",
        `2. To hear the outcome, use ${withQuery({ wait: "25", format: "text" })} as the URL`,
        "3. Speak Text / Show Result with the answer",
      ].join("\n"),
    },
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
