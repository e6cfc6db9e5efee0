import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import { config } from "../env";
import type { AppEnv } from "../http/types";
import { noAuth } from "../http/openapi";
import { validationHook } from "../http/validation";

const Health = z
  .object({
    status: z.literal("ok"),
    upstream: z.enum(["kallyai", "sandbox"]).openapi({ description: "Where calls go: KallyAI itself or the test-mode sandbox." }),
    database: z.literal("ok"),
    time: z.string(),
  })
  .openapi("Health");

export const health = new OpenAPIHono<AppEnv>({ defaultHook: validationHook }).openapi(
  createRoute({
    method: "get",
    path: "/health",
    operationId: "getHealth",
    tags: ["meta"],
    summary: "Liveness and configuration check",
    description: "Answers 200 when the bridge is up and its database answers; `upstream` says whether calls go to KallyAI or to the test-mode sandbox. Needs no key.",
    security: noAuth,
    responses: { 200: { description: "The bridge is up and its database answers.", content: { "application/json": { schema: Health, example: { status: "ok", upstream: "kallyai", database: "ok", time: "2026-01-28T18:00:00.000Z" } } } } },
  }),
  async (c) => {
    await c.env.DB.prepare("SELECT 1").first();
    const cfg = config(c.env);
    const upstream = cfg.sandbox.enabled && cfg.upstream.baseUrl.endsWith("/sandbox") ? ("sandbox" as const) : ("kallyai" as const);
    return c.json({ status: "ok" as const, upstream, database: "ok" as const, time: new Date().toISOString() }, 200);
  },
);
