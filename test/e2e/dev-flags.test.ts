import { afterAll, describe, expect, it } from "vitest";
import { devPlan, migrationSummary } from "../../scripts/dev-args.mjs";
import { type DevServer, startDevServer } from "./dev-server";

/** Every flag name in wrangler's argv, `--var` included: each must appear once. */
const flagNames = (argv: string[]) => argv.filter((a) => a.startsWith("--")).map((a) => a.split("=")[0]);

describe("npm run dev passes every wrangler flag through, each once", () => {
  it.each([
    [["--ip", "0.0.0.0"]],
    [["--ip", "127.0.0.1", "--port", "8799"]],
    [["--ip=127.0.0.1", "--port=8799", "--test-scheduled"]],
    [
      [
        "--port",
        "8790",
        "--var",
        "SANDBOX_CALL_SECONDS:2",
        "--var",
        "POLLER_SWEEP_SECONDS:0",
        "--persist-to",
        "/tmp/state",
      ],
    ],
  ])("%j", (argv) => {
    const { wranglerArgs } = devPlan(argv, {});
    const names = flagNames(wranglerArgs);
    expect(names.length).toBe(new Set(names).size);
    for (const name of flagNames(argv)) expect(names).toContain(name);
  });

  it("uses the user's address and port, and reaches the worker on loopback when it listens on every interface", () => {
    expect(devPlan(["--ip", "0.0.0.0", "--port", "8799"], {})).toMatchObject({
      ip: "0.0.0.0",
      port: 8799,
      origin: "http://127.0.0.1:8799",
    });
    const { wranglerArgs } = devPlan(["--ip", "0.0.0.0"], {});
    expect(wranglerArgs.slice(wranglerArgs.indexOf("--ip"), wranglerArgs.indexOf("--ip") + 2)).toEqual([
      "--ip",
      "0.0.0.0",
    ]);
    expect(devPlan(["--ip", "::1", "--port", "9000"], {}).origin).toBe("http://[::1]:9000");
  });

  it("a --var of the user replaces the dev default of the same name; the others stay", () => {
    const { wranglerArgs } = devPlan(["--var", "SANDBOX_ENABLED:false"], {});
    const vars = wranglerArgs.slice(wranglerArgs.indexOf("--var") + 1);
    expect(vars).toContain("SANDBOX_ENABLED:false");
    expect(vars).not.toContain("SANDBOX_ENABLED:true");
    expect(vars).toContain("BRIDGE_ENV:development");
  });

  it("says which flag was given twice instead of passing it on", () => {
    expect(() => devPlan(["--ip", "0.0.0.0", "--ip=127.0.0.1"], {})).toThrow(/--ip/);
  });
});

describe("npm run dev -- --ip 127.0.0.1 --port <free>", () => {
  let server: DevServer | undefined;
  afterAll(async () => {
    await server?.stop();
  });

  it("serves /health", async () => {
    // startDevServer passes --port <free> and --persist-to; --ip is the user's.
    server = await startDevServer(["--ip", "127.0.0.1"]);
    const res = await fetch(`${server.origin}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: "ok", upstream: "sandbox" });
    expect(server.output()).not.toMatch(/expects a single value/);
  });

  it("starts quietly: one line for the migrations, no table, no stack trace", () => {
    const output = server?.output() ?? "";
    expect(output).toMatch(/\[dev\] local D1 database: applied \d+ migration\(s\) \(0001_sandbox\.sql … \d{4}_/);
    expect(output).not.toMatch(/[┌│└]/);
    expect(output).not.toMatch(/ENOTFOUND|^\s+at /m);
  });
});

describe("the migrations' one-line summary", () => {
  it("names the first and last migration applied, or says the schema is up to date", () => {
    const table =
      "│ 0001_sandbox.sql │ ✅ │\n│ 0002_accounts.sql │ 🕒️ │\n│ 0001_sandbox.sql │ ✅ │\n│ 0002_accounts.sql │ ✅ │";
    expect(migrationSummary(table)).toBe(
      "local D1 database: applied 2 migration(s) (0001_sandbox.sql … 0002_accounts.sql)",
    );
    expect(migrationSummary("✅ No migrations to apply!")).toBe("local D1 database: schema up to date");
  });
});
