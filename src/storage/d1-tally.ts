import { AsyncLocalStorage } from "node:async_hooks";

/**
 * Development-only instrumentation: how many D1 round trips and statements one request costs.
 * `countingD1` wraps the binding (deps.ts does so only when BRIDGE_ENV is development) and adds
 * every query to the tally of the request running it; `tallyD1` opens that tally. Production
 * code never goes through here.
 */
export interface D1Tally {
  /** Awaited trips to D1: one per `first`/`all`/`run`/`raw`, one per `batch`, one per `exec`. */
  roundTrips: number;
  /** SQL statements sent, a batch counting each of its statements. */
  statements: number;
}

const current = new AsyncLocalStorage<D1Tally | undefined>();

function count(statements: number): void {
  const tally = current.getStore();
  if (!tally) return;
  tally.roundTrips += 1;
  tally.statements += statements;
}

/** Runs `fn` with a fresh tally that every query of a counting binding made inside it adds to. */
export async function tallyD1<T>(fn: () => Promise<T>): Promise<{ result: T; tally: D1Tally }> {
  const tally: D1Tally = { roundTrips: 0, statements: 0 };
  const result = await current.run(tally, fn);
  return { result, tally };
}

/** Runs `fn` outside any tally: work that is not part of the answer (e.g. `waitUntil` writes). */
export function untallied<T>(fn: () => T): T {
  return current.run(undefined, fn);
}

const originals = new WeakMap<object, D1PreparedStatement>();
const QUERIES = new Set<PropertyKey>(["first", "all", "run", "raw"]);

function countingStatement(statement: D1PreparedStatement): D1PreparedStatement {
  const proxy = new Proxy(statement, {
    get(target, prop) {
      if (prop === "bind") return (...values: unknown[]) => countingStatement(target.bind(...values));
      const value = Reflect.get(target, prop, target);
      if (typeof value !== "function") return value;
      if (!QUERIES.has(prop)) return value.bind(target);
      return (...args: unknown[]) => {
        count(1);
        return value.apply(target, args);
      };
    },
  });
  originals.set(proxy, statement);
  return proxy;
}

/** The same binding, counting each query into the current request's tally. */
export function countingD1(db: D1Database): D1Database {
  return new Proxy(db, {
    get(target, prop) {
      if (prop === "prepare") return (sql: string) => countingStatement(target.prepare(sql));
      if (prop === "batch") {
        return (statements: D1PreparedStatement[]) => {
          count(statements.length);
          return target.batch(statements.map((s) => originals.get(s) ?? s));
        };
      }
      if (prop === "exec") {
        return (sql: string) => {
          count(1);
          return target.exec(sql);
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
