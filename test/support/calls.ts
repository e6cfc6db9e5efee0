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
