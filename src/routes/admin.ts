import { Hono } from "hono";
import { z } from "zod";
import { deps } from "../domain/deps";
import { tooLongForOAuth } from "../domain/oauth";
import { reencryptVault } from "../domain/vault-rotation";
import { ApiError } from "../errors";
import { timingSafeEqual } from "../http/timing-safe";
import type { AppEnv } from "../http/types";
import { requireOAuth } from "./oauth";

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

/**
 * Pre-registered OAuth clients (docs/oauth.md): a platform that cannot register itself (Zapier's
 * published app, IFTTT) gets a client id and secret here, once. Unlike a dynamic registration it
 * never expires; deleting it ends every grant it holds.
 */
const NewClient = z.object({
  client_name: z.string().trim().min(1).max(100),
  redirect_uris: z.array(z.string().min(1).max(2000)).min(1).max(10),
  token_endpoint_auth_method: z.enum(["client_secret_basic", "client_secret_post"]).default("client_secret_post"),
});

admin.post("/admin/oauth/clients", async (c) => {
  const parsed = NewClient.safeParse(await c.req.json().catch(() => null));
  if (!parsed.success)
    throw new ApiError(
      422,
      "validation_error",
      "Send {client_name, redirect_uris: [...], token_endpoint_auth_method?: client_secret_basic | client_secret_post}.",
    );
  const created = await requireOAuth(c)
    .api.createClient({
      clientName: parsed.data.client_name,
      redirectUris: parsed.data.redirect_uris,
      tokenEndpointAuthMethod: parsed.data.token_endpoint_auth_method,
    })
    .catch((err: unknown) => {
      throw new ApiError(422, "validation_error", err instanceof Error ? err.message : "The client was refused.");
    });
  return c.json(
    {
      client_id: created.clientId,
      client_secret: created.clientSecret,
      client_name: created.clientName,
      redirect_uris: created.redirectUris,
      token_endpoint_auth_method: created.tokenEndpointAuthMethod,
    },
    201,
  );
});

admin.delete("/admin/oauth/clients/:id", async (c) => {
  const api = requireOAuth(c).api;
  const id = c.req.param("id");
  if (tooLongForOAuth(id) || !(await api.lookupClient(id).catch(() => null)))
    throw new ApiError(404, "not_found", "No such OAuth client.");
  await api.deleteClient(id);
  return c.json({ deleted: true, client_id: id });
});
