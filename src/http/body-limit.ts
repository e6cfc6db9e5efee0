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

/**
 * How much of a refused body is still read (and thrown away) before answering 413. A body that the
 * Worker stops reading midway (`reader.cancel()`) breaks the connection that is still delivering
 * it: under `npm run dev`, miniflare's entry worker, piping the client's upload into this Worker,
 * then fails with "Network connection lost" and answers a text 500 instead of the 413
 * (workerd#1741; wrangler dev drains bodies a Worker never touched, but not one it began to read).
 * Reading the rest lets the upload finish, so the 413 JSON arrives every time. Beyond this bound
 * the read is cancelled after all: Cloudflare itself refuses bodies over the plan's limit
 * (100 MB on Free and Pro) with its own 413 at the edge, before the Worker runs.
 */
export const DRAIN_LIMIT = 4 * 1024 * KB;

/** Reads a body to its end, refusing it once it passes `limit` bytes (however it is sent: whole or chunked). */
export async function readBody(body: ReadableStream<Uint8Array>, limit: number): Promise<Uint8Array> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await drain(reader, DRAIN_LIMIT - size);
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

/** Reads and drops the rest of a refused body, up to `bytes` more; cancels what is left beyond that. */
async function drain(reader: ReadableStreamDefaultReader<Uint8Array>, bytes: number): Promise<void> {
  try {
    for (let left = bytes; left > 0; ) {
      const { done, value } = await reader.read();
      if (done) return;
      left -= value.byteLength;
    }
    await reader.cancel();
  } catch {
    // The client went away: there is nobody left to answer.
  }
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
