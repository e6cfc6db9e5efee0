// How `npm run dev` builds wrangler's command line: the dev defaults, then the user's own flags,
// with every flag given once (wrangler refuses `--ip` or `--port` twice). Kept apart from
// scripts/dev.mjs so the e2e tests can check it without starting wrangler.

/** The dev runner's own vars; a `--var NAME:VALUE` of the user replaces the default of NAME. */
const devVars = (origin) => ({
  BRIDGE_ENV: "development",
  // Tells the worker it runs under `npm run dev`: only then may it use the built-in dev secrets.
  BRIDGE_LOCAL_RUNNER: "npm-run-dev",
  SANDBOX_ENABLED: "true",
  KALLYAI_API_BASE: `${origin}/sandbox`,
});

/**
 * Splits argv into flags: `--name value`, `--name=value`, `--name` alone, and `--var A:1 B:2`
 * (wrangler's `--var` takes several values). Returns [{ name, values, raw }] in order.
 */
export function parseFlags(argv) {
  const flags = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith("--")) {
      flags.push({ name: null, values: [arg], raw: [arg] });
      continue;
    }
    const eq = arg.indexOf("=");
    if (eq !== -1) {
      flags.push({ name: arg.slice(2, eq), values: [arg.slice(eq + 1)], raw: [arg] });
      continue;
    }
    const values = [];
    const many = arg === "--var";
    while (i + 1 < argv.length && !argv[i + 1].startsWith("--") && (many || values.length === 0))
      values.push(argv[++i]);
    flags.push({ name: arg.slice(2), values, raw: [arg, ...values] });
  }
  return flags;
}

/** The address the runner itself uses to reach the worker (the cron, the sandbox as upstream). */
function reachableHost(ip) {
  if (!ip || ip === "0.0.0.0" || ip === "::" || ip === "*") return "127.0.0.1";
  return ip.includes(":") ? `[${ip}]` : ip;
}

/**
 * @param {string[]} userArgs what followed `npm run dev --`
 * @param {{ PORT?: string }} env
 */
export function devPlan(userArgs, env = {}) {
  const flags = parseFlags(userArgs);
  const last = (name) => flags.filter((f) => f.name === name).at(-1)?.values[0];
  const repeated = [...new Set(flags.filter((f) => f.name && f.name !== "var").map((f) => f.name))].filter(
    (n) => flags.filter((f) => f.name === n).length > 1,
  );
  if (repeated.length)
    throw new Error(`give each flag once: ${repeated.map((n) => `--${n}`).join(", ")} appears more than once`);

  const ip = last("ip") ?? "127.0.0.1";
  const port = Number(last("port") ?? env.PORT ?? 8787);
  const origin = `http://${reachableHost(ip)}:${port}`;
  const userVars = flags.filter((f) => f.name === "var").flatMap((f) => f.values);
  const userVarNames = new Set(userVars.map((v) => v.split(":")[0]));
  const vars = [
    ...Object.entries(devVars(origin))
      .filter(([name]) => !userVarNames.has(name))
      .map(([k, v]) => `${k}:${v}`),
    ...userVars,
  ];

  const args = ["dev"];
  if (last("ip") === undefined) args.push("--ip", ip);
  if (last("port") === undefined) args.push("--port", String(port));
  if (!flags.some((f) => f.name === "test-scheduled")) args.push("--test-scheduled");
  args.push(...flags.filter((f) => f.name !== "var").flatMap((f) => f.raw));
  // One --var with all the values: the dev defaults the user did not set, then the user's own.
  args.push("--var", ...vars);
  return { wranglerArgs: args, ip, port, origin, persistTo: last("persist-to") };
}

/**
 * One line for what `wrangler d1 migrations apply` printed: the migrations it applied, or that
 * the local database was up to date (wrangler's own output is a table per migration).
 * @param {string} output
 */
export function migrationSummary(output) {
  if (/No migrations to apply/.test(output)) return "local D1 database: schema up to date";
  const applied = [...new Set(output.match(/\b\d{4}_[\w-]+\.sql\b/g) ?? [])];
  if (applied.length === 0) return "local D1 database: migrations applied";
  const names = applied.length > 1 ? `${applied[0]} … ${applied.at(-1)}` : applied[0];
  return `local D1 database: applied ${applied.length} migration(s) (${names})`;
}
