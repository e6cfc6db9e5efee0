import type { z } from "zod";

/**
 * The issue a refusal names: the first. zod reports at least one for every failed parse; the
 * fallback only keeps the type honest.
 */
export const firstIssue = (error: z.ZodError): { path: PropertyKey[]; message: string } =>
  error.issues[0] ?? { path: [], message: "is invalid" };
