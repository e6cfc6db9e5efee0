import type { Context } from "hono";

/** Cloudflare sets CF-Connecting-IP on every request; locally it is absent. */
export const clientIp = (c: Context) => c.req.header("cf-connecting-ip") ?? "local";
