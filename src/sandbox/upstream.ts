import { Hono } from "hono";
import type { Bindings } from "../env";
import { sandbox, sandboxEnabled } from "./app";
import type { SandboxEnv } from "./types";

/** The sandbox at the path it has on this Worker, as the upstream's base URL names it. */
const mounted = new Hono<SandboxEnv>();
mounted.use("/sandbox/*", sandboxEnabled);
mounted.route("/sandbox", sandbox);

/**
 * Test mode's upstream is this Worker's own `/sandbox`. The KallyAI client hands those requests
 * to the sandbox's app in the same isolate rather than to fetch(): a Worker cannot fetch its own
 * hostname (on workers.dev that is error 1042), and a request that stays in the isolate costs no
 * subrequest, no second invocation and, under `wrangler dev`, no second trip through the local
 * proxy. The client is unchanged: the same Request goes in and the same Response comes out as
 * over the network, and its timeout still applies. Requests to the real KallyAI use fetch().
 */
export const ownSandbox = {
  dispatch(request: Request, env: Bindings): Promise<Response> {
    return Promise.resolve(mounted.fetch(request, env));
  },
};

/** A fetch() for the KallyAI client that reaches this Worker's own sandbox. */
export function ownSandboxFetch(env: Bindings): typeof fetch {
  return (input, init) => {
    const request = new Request(input, init);
    return answerOrAbort(request, () => ownSandbox.dispatch(request, env));
  };
}

/** `handle(request)`, rejected with the signal's reason once the request's signal aborts, as fetch() would be. */
export function answerOrAbort(request: Request, handle: () => Response | Promise<Response>): Promise<Response> {
  const { signal } = request;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<Response>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    Promise.resolve()
      .then(handle)
      .then(resolve, reject)
      .finally(() => signal.removeEventListener("abort", onAbort));
  });
}
