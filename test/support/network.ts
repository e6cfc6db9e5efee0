import { exports } from "cloudflare:workers";
import { answerOrAbort } from "../../src/sandbox/upstream";
import { harvestResponse } from "./log-scan";

/**
 * The tests' whole network. Outbound fetch from the worker (and test mode's in-process requests to
 * its own sandbox) reaches only the hosts routed here:
 * the bridge itself (which mounts the sandbox) and receivers a test adds. Anything else fails the
 * test, so a bug can never send a request to a real address.
 */
type Handler = (request: Request) => Response | Promise<Response>;
const routes = new Map<string, Handler>();
export const BRIDGE_ORIGIN = "http://bridge.test";
export const blocked: string[] = [];

export function route(origin: string, handler: Handler) {
  routes.set(new URL(origin).origin, handler);
  return () => routes.delete(new URL(origin).origin);
}

export function resetRoutes() {
  routes.clear();
  routes.set(BRIDGE_ORIGIN, (req) => exports.default.fetch(req));
  blocked.length = 0;
}

export async function interceptedFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
  const request = new Request(input, init);
  const handler = routes.get(new URL(request.url).origin);
  if (!handler) {
    blocked.push(request.url);
    throw new Error(`Test network: outbound fetch to ${request.url} is not allowed`);
  }
  const res = await answerOrAbort(request, () => handler(request));
  harvestResponse(res);
  return res;
}
