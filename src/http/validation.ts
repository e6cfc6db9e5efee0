import type { Hook } from "@hono/zod-openapi";
import { ApiError } from "../errors";
import { firstIssue } from "../shared/first-issue";
import type { AppEnv } from "./types";

/** Every zod failure at the edge becomes a 422 that names the field and what it must be. */
export const validationHook: Hook<unknown, AppEnv, string, void> = (result) => {
  if (result.success) return;
  const issue = firstIssue(result.error);
  const field = issue.path.join(".") || undefined;
  const message = field ? `${field}: ${issue.message}` : issue.message;
  throw new ApiError(422, "validation_error", message, field ? { field } : {});
};
