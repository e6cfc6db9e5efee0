import { AsyncLocalStorage } from "node:async_hooks";
import { type D1Meter, metered } from "./metered";

/**
 * Development-only instrumentation: how many D1 round trips and statements one request costs.
 * `countingD1` wraps the binding (deps.ts does so only when BRIDGE_ENV is development) and adds
 * every query to the tally of the request running it; `tallyD1` opens that tally. Production
 * code never goes through here.
 */
const current = new AsyncLocalStorage<D1Meter | undefined>();

/** A meter that adds to whichever request's tally is current, and drops what runs outside one. */
const currentTally: D1Meter = {
  get roundTrips() {
    return current.getStore()?.roundTrips ?? 0;
  },
  set roundTrips(n) {
    const tally = current.getStore();
    if (tally) tally.roundTrips = n;
  },
  get statements() {
    return current.getStore()?.statements ?? 0;
  },
  set statements(n) {
    const tally = current.getStore();
    if (tally) tally.statements = n;
  },
};

/** The same binding, counting each query into the current request's tally. */
export const countingD1 = (db: D1Database): D1Database => metered(db, currentTally).db;

/** Runs `fn` with a fresh tally that every query of a counting binding made inside it adds to. */
export async function tallyD1<T>(fn: () => Promise<T>): Promise<{ result: T; tally: D1Meter }> {
  const tally: D1Meter = { roundTrips: 0, statements: 0 };
  const result = await current.run(tally, fn);
  return { result, tally };
}

/** Runs `fn` outside any tally: work that is not part of the answer (e.g. `waitUntil` writes). */
export function untallied<T>(fn: () => T): T {
  return current.run(undefined, fn);
}
