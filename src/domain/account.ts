import type { z } from "@hono/zod-openapi";
import { SubscriptionSchema, UsageSchema } from "../shared/api-schemas";
import type { Caller } from "./caller";
import type { Deps } from "./deps";
import { withUpstream } from "./upstream-session";

/** The account's usage, subscription and billing portal as the REST API and the MCP tools give them. */
export type Usage = z.infer<typeof UsageSchema>;
export type Subscription = z.infer<typeof SubscriptionSchema>;

/** Every documented field, null when KallyAI left it out: clients can rely on the keys. */
const nullable = <T extends Record<string, unknown>>(keys: readonly string[], source: T) =>
  Object.fromEntries(keys.map((k) => [k, source[k] ?? null]));

export async function usage(d: Deps, caller: Caller): Promise<Usage> {
  const stats = await withUpstream(d, caller, (token) => d.upstream.statistics(token));
  return nullable(Object.keys(UsageSchema.shape), stats) as Usage;
}

export async function subscription(d: Deps, caller: Caller): Promise<Subscription> {
  const sub = await withUpstream(d, caller, (token) => d.upstream.subscription(token));
  const plan = sub.plan
    ? {
        type: sub.plan.type ?? null,
        period: sub.plan.period ?? null,
        minutes_included: sub.plan.minutes_included ?? null,
      }
    : null;
  return { ...(nullable(Object.keys(SubscriptionSchema.shape), sub) as Subscription), plan };
}

export async function billingPortal(d: Deps, caller: Caller): Promise<{ portal_url: string }> {
  const { portal_url } = await withUpstream(d, caller, (token) => d.upstream.billingPortal(token));
  return { portal_url };
}
