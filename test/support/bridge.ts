import { env, exports } from "cloudflare:workers";
import { BRIDGE_ORIGIN } from "./network";

/** Every answer the tests saw, checked against the OpenAPI document after each file (test/support/setup.ts). */
export const observed: Array<{ method: string; path: string; status: number }> = [];

/** Sends a request to the worker under test, as a client on the internet would. */
export async function bridge(path: string, init?: RequestInit): Promise<Response> {
  const request = new Request(BRIDGE_ORIGIN + path, init);
  const res = await exports.default.fetch(request);
  observed.push({ method: request.method, path: new URL(request.url).pathname, status: res.status });
  return res;
}

export function json(path: string, body: unknown, init: RequestInit = {}): Promise<Response> {
  return bridge(path, {
    method: "POST",
    ...init,
    headers: { "content-type": "application/json", ...init.headers },
    body: JSON.stringify(body),
  });
}

/** The error of an answer: the bridge's `{code, message}`, or the sandbox's reference format (`details.message`). */
export async function errorOf(res: Response): Promise<{ code: string; message: string; upgrade_url?: string }> {
  const body = (await res.json()) as {
    error: { code: string; message?: string; details?: { message?: string }; upgrade_url?: string };
  };
  const { details, ...error } = body.error;
  return { ...error, message: error.message ?? details?.message ?? "" };
}

export const db = () => env.DB;
