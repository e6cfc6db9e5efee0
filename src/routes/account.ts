import { createRoute, z } from "@hono/zod-openapi";
import { billingPortal, subscription, usage } from "../domain/account";
import { deps } from "../domain/deps";
import { usageSentence } from "../domain/speech";
import { requireKey } from "../http/auth";
import { wantsText } from "../http/negotiate";
import { errorResponses, json, keyAuth, router, TextAnswer } from "../http/openapi";
import { SubscriptionSchema, UsageSchema } from "../shared/api-schemas";

const upstreamErrors = [403, 409, 422, 502, 504] as const;

export const account = router();
for (const path of ["/v1/usage", "/v1/subscription", "/v1/billing"]) account.use(path, requireKey("account:read"));

account.openapi(
  createRoute({
    method: "get",
    path: "/v1/usage",
    operationId: "getUsage",
    tags: ["account"],
    summary: "Minutes and calls allocated, used and remaining (kallyai --usage)",
    description:
      "The plan's allowance this period, from KallyAI. `format=text` (or `Accept: text/plain`) answers one sentence for Siri.",
    security: keyAuth,
    request: { query: z.object({ format: z.enum(["json", "text"]).optional() }) },
    responses: {
      200: {
        description: "Usage this period",
        content: { "application/json": { schema: UsageSchema }, ...TextAnswer },
      },
      ...errorResponses(...upstreamErrors),
    },
  }),
  async (c) => {
    const answer = await usage(deps(c.env), c.get("auth"));
    return wantsText(c) ? c.text(usageSentence(answer), 200) : c.json(answer, 200);
  },
);

account.openapi(
  createRoute({
    method: "get",
    path: "/v1/subscription",
    operationId: "getSubscription",
    tags: ["account"],
    summary: "The KallyAI subscription (kallyai --subscription)",
    description: "The plan, its status and renewal, from KallyAI.",
    security: keyAuth,
    responses: { 200: json(SubscriptionSchema, "The subscription"), ...errorResponses(...upstreamErrors) },
  }),
  async (c) => c.json(await subscription(deps(c.env), c.get("auth")), 200),
);

account.openapi(
  createRoute({
    method: "get",
    path: "/v1/billing",
    operationId: "getBillingPortal",
    tags: ["account"],
    summary: "The billing portal (kallyai --billing); ?redirect=1 sends a browser there",
    description: "A link to KallyAI's billing portal; with `redirect=1` a 302 to it, for a browser.",
    security: keyAuth,
    request: { query: z.object({ redirect: z.enum(["1", "true", "0", "false"]).optional() }) },
    responses: {
      200: json(
        z
          .object({ portal_url: z.string() })
          .openapi({ example: { portal_url: "https://billing.stripe.com/p/session/…" } }),
        "The portal's URL",
      ),
      302: { description: "Redirect to the portal", headers: { Location: { $ref: "#/components/headers/Location" } } },
      ...errorResponses(...upstreamErrors),
    },
  }),
  async (c) => {
    const { portal_url } = await billingPortal(deps(c.env), c.get("auth"));
    const redirect = c.req.valid("query").redirect;
    if (redirect === "1" || redirect === "true") return c.redirect(portal_url, 302);
    return c.json({ portal_url }, 200);
  },
);
