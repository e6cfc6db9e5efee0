import type { MiddlewareHandler } from "hono";
import { ApiError } from "../errors";

const KB = 1024;

/** No-code tools send small bodies: a call's fields fit in a few kilobytes. */
export const DEFAULT_BODY_LIMIT = 64 * KB;

/**
 * The largest body each endpoint takes, smaller where the body is small by nature. First match
 * wins; anything else (the sandbox, endpoints added later) gets DEFAULT_BODY_LIMIT.
 */
const LIMITS: ReadonlyArray<readonly [path: RegExp, bytes: number]> = [
  [/^\/v1\/link$/, 8 * KB], // a refresh token (≤ 4 KB) and a key name
  [/^\/v1\/unlink$/, 1 * KB],
  [/^\/v1\/keys(\/|$)/, 2 * KB],
  [/^\/v1\/(webhooks|deliveries)(\/|$)/, 8 * KB],
  [/^\/v1\/triggers(\/|$)/, 32 * KB],
  [/^\/auth\//, 8 * KB],
  [/^\/oauth\/register$/, 16 * KB], // a client's metadata: names, a few redirect URIs
  [/^\/(oauth\/token|authorize)$/, 8 * KB],
  [/^\/admin\/oauth\//, 8 * KB], // a client's name and redirect URIs
  [/^\/admin\//, 1 * KB],
];

export function bodyLimitFor(path: string): number {
  return LIMITS.find(([pattern]) => pattern.test(path))?.[1] ?? DEFAULT_BODY_LIMIT;
}

const tooLarge = (limit: number) =>
  new ApiError(
    413,
    "payload_too_large",
    `The request body is larger than ${limit / KB} KB, the most this endpoint takes. Send only the fields it needs.`,
  );

/** Reads a body to its end, refusing it as soon as it passes `limit` bytes (however it is sent: whole or chunked). */
export async function readBody(body: ReadableStream<Uint8Array>, limit: number): Promise<Uint8Array> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  const all = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    all.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return all;
}

/**
 * Every request body is measured before anything parses it: a declared Content-Length over the
 * endpoint's limit is refused unread, and the body itself is counted while it streams in (a
 * chunked body has no length, and a declared one may lie). Rate limits and validation then only
 * ever see a body of bounded size.
 */
export const bodyLimits = (): MiddlewareHandler => async (c, next) => {
  const raw = c.req.raw;
  if (!raw.body) return next();
  const limit = bodyLimitFor(c.req.path);
  const declared = Number(raw.headers.get("content-length") ?? Number.NaN);
  if (declared > limit) throw tooLarge(limit);
  const bytes = await readBody(raw.body, limit);
  c.req.raw = new Request(raw, { body: bytes });
  await next();
};
