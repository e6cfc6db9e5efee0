import { OpenAPIHono, z } from "@hono/zod-openapi";
import type { AppEnv } from "./types";
import { validationHook } from "./validation";

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: "validation_error" }),
      message: z.string().openapi({ example: "phone: Enter the number to call, e.g. +14155551234." }),
      field: z.string().optional(),
    }),
  })
  .openapi("Error");

const DESCRIPTIONS: Record<number, string> = {
  400: "Malformed request",
  401: "Missing, invalid, expired or revoked API key",
  403: "The key lacks the scope, or KallyAI refused the country",
  404: "Not found",
  409: "The KallyAI account must be linked again",
  413: "The request body is larger than this endpoint takes",
  415: "The Content-Type is not one this endpoint reads",
  422: "A field is invalid",
  429: "Too many requests; see Retry-After",
  502: "KallyAI failed",
  503: "KallyAI is busy; see Retry-After",
  504: "KallyAI did not answer in time",
};

/** The error answers of a route, all in the one error shape. */
export function errorResponses(...statuses: number[]) {
  return Object.fromEntries(statuses.map((s) => [s, { description: DESCRIPTIONS[s] ?? "Error", content: { "application/json": { schema: ErrorSchema } } }]));
}

/** A JSON answer, with an example for the document (every endpoint shows one). */
export const json = <T extends z.ZodType>(schema: T, description: string, example?: unknown) => ({
  description,
  content: { "application/json": example === undefined ? { schema } : { schema, example } },
});

export const keyAuth: Record<string, string[]>[] = [{ ApiKey: [] }, { ApiKeyHeader: [] }];

export const router = () => new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
