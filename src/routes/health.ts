import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { healthReport } from "../domain/health";
import { noAuth } from "../http/openapi";
import type { AppEnv } from "../http/types";
import { validationHook } from "../http/validation";

const Health = z
  .object({
    status: z.enum(["ok", "misconfigured", "unavailable"]),
    upstream: z
      .enum(["kallyai", "sandbox"])
      .nullable()
      .openapi({ description: "Where calls go: KallyAI itself or the test-mode sandbox (null when misconfigured)." }),
    database: z.enum(["ok", "unreachable"]),
    schema: z.object({
      expected: z.string().openapi({ description: "The newest migration this code needs." }),
      applied: z.string().nullable().openapi({ description: "The newest migration applied to D1." }),
      state: z.enum(["current", "ahead", "behind", "missing", "unknown"]),
    }),
    problems: z
      .array(z.string())
      .openapi({ description: "What the operator must fix (settings are named, never their values)." }),
    time: z.string(),
  })
  .openapi("Health");

const example = {
  status: "ok" as const,
  upstream: "kallyai" as const,
  database: "ok" as const,
  schema: { expected: "0007_console_sessions.sql", applied: "0007_console_sessions.sql", state: "current" as const },
  problems: [],
  time: "2026-01-28T18:00:00.000Z",
};

export const health = new OpenAPIHono<AppEnv>({ defaultHook: validationHook }).openapi(
  createRoute({
    method: "get",
    path: "/health",
    operationId: "getHealth",
    tags: ["meta"],
    description:
      "Answers 200 when the bridge is configured, its database answers and its schema is current; 503 with `problems` otherwise. `upstream` says whether calls go to KallyAI or to the test-mode sandbox. Needs no key.",
    security: noAuth,
    summary: "Liveness and deployment check: configuration, secrets, D1 and its schema version",
    responses: {
      200: {
        description: "The bridge is configured, its database answers and its schema is current.",
        content: { "application/json": { schema: Health, example } },
      },
      503: {
        description:
          "Misconfigured (e.g. missing or development secrets) or the database is unreachable or not migrated; `problems` says what to fix.",
        content: {
          "application/json": {
            schema: Health,
            example: {
              ...example,
              status: "misconfigured",
              upstream: null,
              problems: ['the secret VAULT_KEYS is not set (see README, "Deploy").'],
            },
          },
        },
      },
    },
  }),
  async (c) => {
    const report = await healthReport(c.env);
    c.header("cache-control", "no-store");
    return report.status === "ok" ? c.json(report, 200) : c.json(report, 503);
  },
);
