import type { MiddlewareHandler } from "hono";
import { addHeaders } from "./response-headers";
import type { AppEnv } from "./types";

const HEADER = "x-request-id";
/** A caller's own id is kept when it is short and plain (it ends up in logs and headers). */
const ACCEPTABLE = /^[\w=-]{1,200}$/;

/**
 * Gives every request an id, and every answer the X-Request-Id header: errors, 404s, 405s,
 * 413s and the sandbox's answers included (hono's requestId loses it when an error answer
 * replaces the response).
 */
export const requestIds = (): MiddlewareHandler<AppEnv> => async (c, next) => {
  const sent = c.req.header(HEADER);
  const id = sent && ACCEPTABLE.test(sent) ? sent : crypto.randomUUID();
  c.set("requestId", id);
  await next();
  addHeaders(c, { [HEADER]: id });
};
