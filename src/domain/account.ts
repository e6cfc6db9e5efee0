import type { Deps } from "./deps";
import { withUpstream } from "./session";

/** The KallyAI account's plan and use, as the API and the console show them (nulls where KallyAI says nothing). */
export interface Usage {
  plan_type: string | null;
  minutes_allocated: number | null;
  minutes_used: number | null;
  minutes_remaining: number | null;
  calls_allocated: number | null;
  calls_used: number | null;
  calls_remaining: number | null;
  period_start: string | null;
  period_end: string | null;
  usage_percentage: number | null;
  subscription_status: string | null;
}

export interface Subscription {
  has_active_subscription: boolean | null;
  provider: string | null;
  plan: { type: string | null; period: string | null; minutes_included: number | null } | null;
  status: string | null;
  expires_at: string | null;
  auto_renew: boolean | null;
  management_url: string | null;
}

const USAGE_FIELDS = ["plan_type", "minutes_allocated", "minutes_used", "minutes_remaining", "calls_allocated", "calls_used", "calls_remaining", "period_start", "period_end", "usage_percentage", "subscription_status"] as const;
const SUBSCRIPTION_FIELDS = ["has_active_subscription", "provider", "status", "expires_at", "auto_renew", "management_url"] as const;
const pick = (keys: readonly string[], source: Record<string, unknown>) => Object.fromEntries(keys.map((k) => [k, source[k] ?? null]));

export async function usage(d: Deps, userId: string): Promise<Usage> {
  const stats = await withUpstream(d, userId, (token) => d.upstream.statistics(token));
  return pick(USAGE_FIELDS, stats) as unknown as Usage;
}

export async function subscription(d: Deps, userId: string): Promise<Subscription> {
  const sub = await withUpstream(d, userId, (token) => d.upstream.subscription(token));
  const plan = sub.plan ? { type: sub.plan.type ?? null, period: sub.plan.period ?? null, minutes_included: sub.plan.minutes_included ?? null } : null;
  return { ...(pick(SUBSCRIPTION_FIELDS, sub) as unknown as Omit<Subscription, "plan">), plan };
}

export async function billingPortalUrl(d: Deps, userId: string): Promise<string> {
  return (await withUpstream(d, userId, (token) => d.upstream.billingPortal(token))).portal_url;
}
