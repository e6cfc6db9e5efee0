import { Hono } from "hono";
import { deps } from "../domain/deps";
import { reencryptVault } from "../domain/vault-rotation";
import { ApiError } from "../errors";
import type { AppEnv } from "../http/types";

/** Operator endpoints, behind the ADMIN_TOKEN secret (off when it is not set). */
export const admin = new Hono<AppEnv>();

admin.use("/admin/*", async (c, next) => {
  const token = deps(c.env).cfg.adminToken;
  if (!token) throw new ApiError(404, "not_found", "Admin endpoints are off. Set the ADMIN_TOKEN secret to use them.");
  const presented = c.req.header("authorization")?.match(/^Bearer\s+(\S+)$/i)?.[1] ?? "";
  if (!(await timingSafeEqual(presented, token)))
    throw new ApiError(401, "unauthorized", "Send `Authorization: Bearer <ADMIN_TOKEN>`.");
  await next();
});

admin.post("/admin/vault/reencrypt", async (c) => c.json(await reencryptVault(deps(c.env))));

async function timingSafeEqual(a: string, b: string): Promise<boolean> {
  const enc = new TextEncoder();
  const [ha, hb] = await Promise.all([
    crypto.subtle.digest("SHA-256", enc.encode(a)),
    crypto.subtle.digest("SHA-256", enc.encode(b)),
  ]);
  return crypto.subtle.timingSafeEqual(ha, hb);
}
