/**
 * A D1 binding whose chosen round trip fails: a statement's first/run/all/raw, or a whole batch
 * (which D1 runs as one transaction, so a failed batch writes nothing). Every round trip is
 * recorded (its SQL), so a dry run tells how many there are to sweep and what each one was. A
 * round trip is chosen by what it is and its occurrence (the 2nd `SELECT … FROM users`), not by
 * its position, so work running concurrently (a cron tick's clean-up) cannot shift the target.
 */
export interface Step {
  kind: "first" | "run" | "all" | "raw" | "batch";
  sql: string[];
  failed: boolean;
}

/** Which round trip to fail: the `occurrence`th (1-based) with this signature. */
export interface Target {
  signature: string;
  occurrence: number;
}

export const signatureOf = (step: Pick<Step, "kind" | "sql">) => `${step.kind}: ${step.sql.join(" | ")}`;

/** The target that fails the `n`th (1-based) round trip of a dry run's steps. */
export function targetOf(steps: Step[], n: number): Target {
  const signature = signatureOf(steps[n - 1] ?? { kind: "run", sql: [] });
  return { signature, occurrence: steps.slice(0, n).filter((s) => signatureOf(s) === signature).length };
}

export class InjectedD1Fault extends Error {
  constructor(step: number) {
    super(`D1_ERROR: injected fault at round trip ${step}`);
    this.name = "Error";
  }
}

const RUNS = new Set<PropertyKey>(["first", "run", "all", "raw"]);
const squash = (sql: string) => sql.replace(/\s+/g, " ").trim().slice(0, 160);

/** `db` with the `target` round trip refused; null fails nothing. */
export function faultyD1(db: D1Database, target: Target | null): { db: D1Database; steps: Step[] } {
  const steps: Step[] = [];
  const sqlOf = new WeakMap<object, string>();
  const unwrapped = new WeakMap<object, D1PreparedStatement>();
  const seen = new Map<string, number>();
  const step = (kind: Step["kind"], sql: string[]): boolean => {
    const signature = signatureOf({ kind, sql });
    const occurrence = (seen.get(signature) ?? 0) + 1;
    seen.set(signature, occurrence);
    const failed = target !== null && target.signature === signature && target.occurrence === occurrence;
    steps.push({ kind, sql, failed });
    return failed;
  };
  const wrap = (statement: D1PreparedStatement, sql: string): D1PreparedStatement => {
    const proxy = new Proxy(statement, {
      get(target, prop) {
        if (prop === "bind") return (...values: unknown[]) => wrap(target.bind(...values), sql);
        const value = Reflect.get(target, prop, target) as unknown;
        if (typeof value !== "function") return value;
        if (!RUNS.has(prop)) return value.bind(target);
        return (...args: unknown[]) => {
          if (step(prop as Step["kind"], [sql])) return Promise.reject(new InjectedD1Fault(steps.length));
          return value.apply(target, args);
        };
      },
    });
    sqlOf.set(proxy, sql);
    unwrapped.set(proxy, statement);
    return proxy;
  };
  const handle = new Proxy(db, {
    get(target, prop) {
      if (prop === "prepare") return (sql: string) => wrap(target.prepare(sql), squash(sql));
      if (prop === "batch")
        return (statements: D1PreparedStatement[]) => {
          if (
            step(
              "batch",
              statements.map((s) => sqlOf.get(s) ?? "?"),
            )
          )
            return Promise.reject(new InjectedD1Fault(steps.length));
          return target.batch(statements.map((s) => unwrapped.get(s) ?? s));
        };
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { db: handle, steps };
}
