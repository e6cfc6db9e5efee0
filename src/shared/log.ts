/**
 * The bridge's log lines: one JSON object per line, which Workers Logs indexes field by field.
 * A failure is logged by its kind (`error: "TypeError"`), never its message: the messages of
 * errors from fetch, D1 or a library may carry URLs, tokens or other secrets.
 */
type Fields = Record<string, unknown>;

/** What a log line may say about a thrown value. */
export const errorKind = (err: unknown) => (err instanceof Error ? err.name : typeof err);

/** Something that happened, such as a cron tick or a queue batch; answers the line it logged. */
export function logEvent<F extends Fields>(event: string, fields: F): { level: "info"; event: string } & F {
  const line = { level: "info" as const, event, ...fields };
  console.log(JSON.stringify(line));
  return line;
}

/** A failure the bridge survived (or answered with a 5xx), with what identifies it and the kind of error. */
export function logError(fields: Fields, err: unknown): void {
  console.error(JSON.stringify({ level: "error", ...fields, error: errorKind(err) }));
}
