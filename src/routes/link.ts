import { createRoute, z } from "@hono/zod-openapi";
import { deps } from "../domain/deps";
import { MANAGE_SCOPE } from "../domain/key-signing";
import { linkRefreshToken, takeLinkAttempt, unlink } from "../domain/linking";
import { oauthServer } from "../domain/oauth";
import { authenticateRequest, presentedKey, requireKey } from "../http/auth";
import { clientBucket } from "../http/client-ip";
import { errorResponses, json, keyAuth, noAuth, router } from "../http/openapi";

const LinkBody = z
  .object({
    refresh_token: z
      .string()
      .trim()
      .min(1)
      .max(4096)
      .openapi({ description: "The refresh_token from ~/.kallyai_token.json (what `kallyai --login` saves)." }),
    key_name: z
      .string()
      .trim()
      .min(1)
      .max(100)
      .optional()
      .openapi({ description: 'Name of the first API key. Default "linked".' }),
  })
  .openapi("LinkAccount");

const Linked = z
  .object({
    api_key: z.string().openapi({ description: "A bridge API key with all scopes. Shown only in this answer." }),
    key_id: z.string(),
    user_id: z.string(),
  })
  .openapi("Linked");

export const link = router();

link.openapi(
  createRoute({
    method: "post",
    path: "/v1/link",
    operationId: "linkAccount",
    tags: ["account link"],
    summary: "Link a KallyAI account with its refresh token",
    description:
      "The bridge proves the token by refreshing it at KallyAI, stores the result encrypted, and answers a first API key. Relinking the same KallyAI account updates its tokens. Needs no key (the refresh token is the credential); ten tries per address per 10 minutes.",
    security: noAuth,
    request: {
      body: {
        required: true,
        content: { "application/json": { schema: LinkBody, example: { refresh_token: "eyJhbGciOi…" } } },
      },
    },
    responses: { 201: json(Linked, "Linked"), ...errorResponses(401, 422, 429, 502, 504) },
  }),
  async (c) => {
    const d = deps(c.env);
    await takeLinkAttempt(d, clientBucket(c));
    const caller = presentedKey(c) ? (await authenticateRequest(c)).userId : null;
    const body = c.req.valid("json");
    const { user, key } = await linkRefreshToken(d, body.refresh_token, caller, body.key_name ?? "linked");
    return c.json({ api_key: key.api_key, key_id: key.id, user_id: user.id }, 201);
  },
);

link.use("/v1/unlink", requireKey(MANAGE_SCOPE));
link.openapi(
  createRoute({
    method: "post",
    path: "/v1/unlink",
    operationId: "unlinkAccount",
    tags: ["account link"],
    summary: "Unlink: delete the stored KallyAI tokens and revoke every key",
    description: `Deletes the stored KallyAI tokens, revokes every API key of the account (this one included) and disables its webhook subscriptions. Needs ${MANAGE_SCOPE} (the sign-in key has it).`,
    security: keyAuth,
    responses: {
      200: json(z.object({ unlinked: z.literal(true), revoked_keys: z.number().int() }), "Unlinked", {
        unlinked: true,
        revoked_keys: 3,
      }),
      ...errorResponses(403),
    },
  }),
  async (c) => {
    const { revokedKeys } = await unlink(deps(c.env), c.get("auth").userId, oauthServer(c.env, c.req.url));
    return c.json({ unlinked: true as const, revoked_keys: revokedKeys }, 200);
  },
);
