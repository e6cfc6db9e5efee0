import type { MiddlewareHandler } from "hono";
import { config } from "../env";
import { tallyD1 } from "../storage/d1-tally";
import type { AppEnv } from "./types";

/**
 * Development only: answers every request with the D1 work it cost, as `X-D1-Round-Trips` and
 * `X-D1-Statements` (background work such as the last_used_at touch is not counted). The tests
 * pin these counts and bench/overhead.mjs reports them. Production never sends the headers.
 */
export const d1TallyHeaders: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (!isDevelopment(c.env)) return next();
  const { tally } = await tallyD1(next);
  c.header("X-D1-Round-Trips", String(tally.roundTrips));
  c.header("X-D1-Statements", String(tally.statements));
};

function isDevelopment(env: AppEnv["Bindings"]): boolean {
  try {
    return config(env).dev;
  } catch {
    return false; // a misconfigured deployment is answered by the route itself
  }
}
