import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

export default defineConfig(async () => {
  const migrations = await readD1Migrations("./migrations");
  return {
    test: {
      reporters: ["default", "./test/support/slowest-files.ts"],
      projects: [
        {
          plugins: [
            cloudflareTest({
              wrangler: { configPath: "./wrangler.toml" },
              miniflare: {
                // A second, empty database: test/schema.test.ts applies schema.sql to it.
                d1Databases: ["SCHEMA_CHECK"],
                bindings: {
                  TEST_MIGRATIONS: migrations,
                  // The worker under test is also its own upstream: test/support/network.ts routes
                  // http://bridge.test back into it, and refuses every other host.
                  BRIDGE_ENV: "development",
                  BRIDGE_LOCAL_RUNNER: "vitest",
                  KALLYAI_API_BASE: "http://bridge.test/sandbox",
                  SANDBOX_ENABLED: "true",
                  UPSTREAM_TIMEOUT_MS: "1500",
                  SANDBOX_HANG_SECONDS: "5",
                  // The sandbox answers POST /v1/calls at once (queued), so the placement consumer
                  // finishes within the test; test/placement/ runs it synchronous, as documented.
                  SANDBOX_PLACEMENT: "async",
                },
              },
            }),
          ],
          test: {
            name: "workers",
            include: ["test/**/*.test.ts"],
            exclude: ["test/e2e/**"],
            setupFiles: ["./test/support/setup.ts"],
            globalSetup: ["./test/support/build-openapi.ts"],
            // A ceiling, not a speed check: on a loaded 2-core CI machine the concurrency tests
            // (50 parallel refreshes, the fuzz) need more than vitest's default 5 s.
            testTimeout: 30_000,
          },
        },
        {
          test: {
            name: "e2e",
            include: ["test/e2e/**/*.test.ts"],
            environment: "node",
            globalSetup: ["./test/support/build-openapi.ts"],
            testTimeout: 120_000,
            hookTimeout: 120_000,
          },
        },
      ],
    },
  };
});
