import { createRoute, z } from "@hono/zod-openapi";
import { billingPortalUrl, subscription, usage } from "../domain/account";
import { deps } from "../domain/deps";
import { usageSentence } from "../domain/speech";
import { requireKey } from "../http/auth";
import { wantsText } from "../http/negotiate";
import { errorResponses, json, keyAuth, router } from "../http/openapi";
import { SubscriptionSchema, TextAnswer, UsageSchema } from "./schemas";

const upstreamErrors = [401, 403, 409, 502, 503, 504] as const;

export const account = router();
for (const path of ["/v1/usage", "/v1/subscription", "/v1/billing"]) account.use(path, requireKey("account:read"));

account.openapi(
  createRoute({
    method: "get",
    path: "/v1/usage",
    tags: ["account"],
    summary: "Minutes and calls allocated, used and remaining (kallyai --usage)",
    security: keyAuth,
    request: { query: z.object({ format: z.enum(["json", "text"]).optional() }) },
    responses: { 200: { description: "Usage this period", content: { "application/json": { schema: UsageSchema }, ...TextAnswer } }, ...errorResponses(...upstreamErrors) },
  }),
  async (c) => {
    const used = await usage(deps(c.env), c.get("auth").userId);
    return wantsText(c) ? c.text(usageSentence(used), 200) : c.json(used, 200);
  },
);

account.openapi(
  createRoute({
    method: "get",
    path: "/v1/subscription",
    tags: ["account"],
    summary: "The KallyAI subscription (kallyai --subscription)",
    security: keyAuth,
    responses: { 200: json(SubscriptionSchema, "The subscription"), ...errorResponses(...upstreamErrors) },
  }),
  async (c) => {
    return c.json(await subscription(deps(c.env), c.get("auth").userId), 200);
  },
);

account.openapi(
  createRoute({
    method: "get",
    path: "/v1/billing",
    tags: ["account"],
    summary: "The billing portal (kallyai --billing); ?redirect=1 sends a browser there",
    security: keyAuth,
    request: { query: z.object({ redirect: z.enum(["1", "true", "0", "false"]).optional() }) },
    responses: { 200: json(z.object({ portal_url: z.string() }).openapi({ example: { portal_url: "https://billing.stripe.com/p/session/…" } }), "The portal's URL"), 302: { description: "Redirect to the portal" }, ...errorResponses(...upstreamErrors) },
  }),
  async (c) => {
    const portal_url = await billingPortalUrl(deps(c.env), c.get("auth").userId);
    const redirect = c.req.valid("query").redirect;
    if (redirect === "1" || redirect === "true") return c.redirect(portal_url, 302);
    return c.json({ portal_url }, 200);
  },
);
