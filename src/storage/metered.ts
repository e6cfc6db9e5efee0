/** What a metered database handle has sent to D1: round trips, and statements (a batch is one trip of many). */
export interface D1Meter {
  roundTrips: number;
  statements: number;
}

const RUNS = new Set<PropertyKey>(["first", "run", "all", "raw"]);

/**
 * The same database, counting what is sent through it (for the queue consumers' log line and the
 * benches). Statements prepared on it may be batched on it; nothing else changes.
 */
export function metered(
  db: D1Database,
  meter: D1Meter = { roundTrips: 0, statements: 0 },
): { db: D1Database; meter: D1Meter } {
  const unwrapped = new WeakMap<object, D1PreparedStatement>();
  const wrap = (statement: D1PreparedStatement): D1PreparedStatement => {
    const proxy = new Proxy(statement, {
      get(target, prop) {
        if (prop === "bind") return (...values: unknown[]) => wrap(target.bind(...values));
        const value = Reflect.get(target, prop, target) as unknown;
        if (typeof value !== "function") return value;
        if (!RUNS.has(prop)) return value.bind(target);
        return (...args: unknown[]) => {
          meter.roundTrips++;
          meter.statements++;
          return value.apply(target, args);
        };
      },
    });
    unwrapped.set(proxy, statement);
    return proxy;
  };
  const handle = new Proxy(db, {
    get(target, prop) {
      if (prop === "prepare") return (sql: string) => wrap(target.prepare(sql));
      if (prop === "batch")
        return (statements: D1PreparedStatement[]) => {
          meter.roundTrips++;
          meter.statements += statements.length;
          return target.batch(statements.map((s) => unwrapped.get(s) ?? s));
        };
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { db: handle, meter };
}
