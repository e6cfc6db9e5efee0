import { createRoute, z } from "@hono/zod-openapi";
import { deps } from "../domain/deps";
import { SCOPES } from "../domain/key-signing";
import { requireKey } from "../http/auth";
import { json, keyAuth, router } from "../http/openapi";

const Me = z
  .object({
    linked: z.boolean(),
    user_id: z.string(),
    key: z.object({
      id: z.string(),
      name: z.string(),
      scopes: z.array(z.enum(SCOPES)),
      expires_at: z.string().nullable(),
    }),
    upstream: z.object({
      token_expires_at: z
        .string()
        .nullable()
        .openapi({ description: "When the stored KallyAI access token expires; it is renewed automatically." }),
      state: z.enum(["linked", "relink_required", "unlinked"]),
    }),
  })
  .openapi("Me");

export const me = router();
me.use("/v1/me", requireKey());
me.openapi(
  createRoute({
    method: "get",
    path: "/v1/me",
    operationId: "getMe",
    tags: ["account link"],
    summary: "Who this key belongs to, and whether the KallyAI account is linked (`--auth-status`)",
    description:
      "The key's id, name, scopes and expiry, and the state of the KallyAI link. The test of a connection for Zapier and the other platforms.",
    security: keyAuth,
    responses: {
      200: json(Me, "The key and its account", {
        linked: true,
        user_id: "usr_JnG3r5q6aPZCCN4",
        key: {
          id: "key_2q1YXEfSj0H9aVC",
          name: "iOS Shortcut",
          scopes: ["calls:write", "calls:read"],
          expires_at: null,
        },
        upstream: { token_expires_at: "2026-01-28T19:02:11.000Z", state: "linked" },
      }),
    },
  }),
  async (c) => {
    const { userId, key, scopes, prefetched } = c.get("auth");
    const d = deps(c.env);
    // Read with the key (requireKey); read here only for an auth that did not bring them.
    const [user, vault] = prefetched
      ? [prefetched.user, prefetched.vault]
      : await Promise.all([d.accounts.user(userId), d.accounts.vault(userId)]);
    const state = user?.link_state ?? "unlinked";
    return c.json(
      {
        linked: state === "linked" && vault !== null,
        user_id: userId,
        key: {
          id: key.id,
          name: key.name,
          scopes,
          expires_at: key.expires_at === null ? null : new Date(key.expires_at).toISOString(),
        },
        upstream: {
          token_expires_at: vault?.access_expires_at ? new Date(vault.access_expires_at).toISOString() : null,
          state,
        },
      },
      200,
    );
  },
);
