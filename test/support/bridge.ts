import { env, exports } from "cloudflare:workers";
import { BRIDGE_ORIGIN } from "./network";

/** Sends a request to the worker under test, as a client on the internet would. */
export function bridge(path: string, init?: RequestInit): Promise<Response> {
  return exports.default.fetch(new Request(BRIDGE_ORIGIN + path, init));
}

export function json(path: string, body: unknown, init: RequestInit = {}): Promise<Response> {
  return bridge(path, { method: "POST", ...init, headers: { "content-type": "application/json", ...init.headers }, body: JSON.stringify(body) });
}

export async function errorOf(res: Response): Promise<{ code: string; message: string }> {
  const body = (await res.json()) as { error: { code: string; message: string } };
  return body.error;
}

export const db = () => env.DB;
