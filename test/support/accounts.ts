import { env } from "cloudflare:workers";
import { app } from "../../src/app";
import type { Bindings } from "../../src/env";
import { json } from "./bridge";
import { sandboxSignIn } from "./sandbox";

export interface LinkedUser {
  apiKey: string;
  keyId: string;
  userId: string;
  email: string;
}

/** Signs in to the sandbox and links the account through POST /v1/link, as the CLI does. */
export async function linkedUser(
  email = `user-${crypto.randomUUID()}@example.com`,
  ip = crypto.randomUUID(),
): Promise<LinkedUser> {
  const { refreshToken } = await sandboxSignIn(email);
  const res = await json("/v1/link", { refresh_token: refreshToken }, { headers: { "cf-connecting-ip": ip } });
  if (res.status !== 201) throw new Error(`link answered ${res.status}: ${await res.text()}`);
  const body = (await res.json()) as { api_key: string; key_id: string; user_id: string };
  return { apiKey: body.api_key, keyId: body.key_id, userId: body.user_id, email };
}

export const withKey = (apiKey: string, headers: Record<string, string> = {}) => ({
  headers: { authorization: `Bearer ${apiKey}`, ...headers },
});

/** The worker's app with other configuration, for what the pool's fixed bindings cannot show. */
export function bridgeWith(vars: Partial<Bindings>) {
  const custom = { ...env, ...vars } as Bindings;
  return (path: string, init?: RequestInit, origin = "http://bridge.test") => app.request(origin + path, init, custom);
}

export async function dumpAllTables(): Promise<string> {
  const tables = await env.DB.prepare(
    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'",
  ).all<{ name: string }>();
  const dumps: string[] = [];
  for (const { name } of tables.results)
    dumps.push(JSON.stringify(await env.DB.prepare(`SELECT * FROM "${name}"`).all()));
  return dumps.join("\n");
}
