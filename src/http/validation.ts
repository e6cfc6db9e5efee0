import type { Hook } from "@hono/zod-openapi";
import { ApiError } from "../errors";

/** Every zod failure at the edge becomes a 422 that names the field and what it must be. */
export const validationHook: Hook<unknown, any, any, unknown> = (result) => {
  if (result.success) return;
  const issue = result.error.issues[0];
  const field = issue?.path.join(".") || undefined;
  const message = field ? `${field}: ${issue?.message}` : (issue?.message ?? "The request is invalid.");
  throw new ApiError(422, "validation_error", message, field ? { field } : {});
};
