import type { Hono } from "hono";
import { PatternRouter } from "hono/router/pattern-router";
import { ApiError } from "../errors";

/**
 * Hono answers a wrong method with its not-found handler. This tells the two apart: when the
 * path exists under another method, the answer is 405 with an Allow header.
 */
export function allowedMethods(app: Hono<any, any, any>): (method: string, path: string) => string[] {
  let router: PatternRouter<string> | undefined;
  return (method, path) => {
    if (!router) {
      router = new PatternRouter<string>();
      for (const route of app.routes) if (route.method !== "ALL") router.add("ALL", route.path, route.method);
    }
    const methods = new Set(router.match(method, path)[0].map(([m]) => m));
    if (methods.has("GET")) methods.add("HEAD");
    return [...methods];
  };
}

export function routeNotFound(allowed: string[], method: string, path: string): ApiError {
  if (allowed.length > 0) {
    return new ApiError(405, "method_not_allowed", `${method} is not allowed on ${path}. Use ${allowed.join(", ")}.`, {
      headers: { allow: allowed.join(", ") },
    });
  }
  return new ApiError(404, "not_found", `There is no ${path} endpoint. The API is described at /openapi.json.`);
}
