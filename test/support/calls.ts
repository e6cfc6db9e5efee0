import { env } from "cloudflare:workers";
import { withKey } from "./accounts";
import { bridge, json } from "./bridge";

export const restaurant = {
  phone: "+14155551234",
  task: "Reserve a table for 4 at 8pm",
  category: "restaurant",
  business: "Italian Bistro",
  party_size: 4,
};

export async function place(
  apiKey: string,
  body: Record<string, unknown> = restaurant,
  headers: Record<string, string> = {},
) {
  return json("/v1/calls", body, withKey(apiKey, headers));
}

export async function placed(
  apiKey: string,
  body: Record<string, unknown> = restaurant,
): Promise<{ id: string; status: string }> {
  const res = await place(apiKey, body);
  if (res.status !== 202) throw new Error(`placing answered ${res.status}: ${await res.text()}`);
  return res.json();
}

export const getCall = (apiKey: string, id: string, query = "") => bridge(`/v1/calls/${id}${query}`, withKey(apiKey));

export async function upstreamCallCount(): Promise<number> {
  return (await env.DB.prepare("SELECT count(*) AS n FROM sandbox_calls").first<{ n: number }>())!.n;
}

export interface SandboxCall {
  id: string;
  request: string;
  idempotency_key: string | null;
  ends_at: number;
  outcome: string;
}

/** The sandbox's call behind a bridge call: placed in the background, it has KallyAI's own id (calls.upstream_id). */
export async function sandboxCallOf(bridgeId: string): Promise<SandboxCall | null> {
  return env.DB.prepare("SELECT s.* FROM calls c JOIN sandbox_calls s ON s.id = c.upstream_id WHERE c.id = ?")
    .bind(bridgeId)
    .first<SandboxCall>();
}

/** KallyAI's id for a bridge call, once KallyAI answered its placement. */
export async function upstreamIdOf(bridgeId: string): Promise<string> {
  const row = await env.DB.prepare("SELECT upstream_id FROM calls WHERE id = ?")
    .bind(bridgeId)
    .first<{ upstream_id: string | null }>();
  if (!row?.upstream_id) throw new Error(`call ${bridgeId} has no upstream id (yet)`);
  return row.upstream_id;
}
