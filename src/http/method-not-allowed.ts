import type { Hono } from "hono";
import { except } from "hono/combine";
import { methodNotAllowed } from "hono/method-not-allowed";
import { ApiError, errorResponse } from "../errors";
import type { AppEnv } from "./types";

/**
 * A wrong method on a path that exists answers 405 with an Allow header (Hono's
 * methodNotAllowed), in the bridge's error shape. The console is left out: it answers every
 * unknown page, whatever the method, with a page of its own.
 */
export const wrongMethods = (app: Hono<AppEnv>) =>
  except(
    ["/console", "/console/*"],
    methodNotAllowed({
      app,
      onMethodNotAllowed: (c, allowed) =>
        errorResponse(
          new ApiError(
            405,
            "method_not_allowed",
            `${c.req.method} is not allowed on ${c.req.path}. Use ${allowed.join(", ")}.`,
            { headers: { allow: allowed.join(", ") } },
          ),
        ),
    }),
  );

export const routeNotFound = (path: string) =>
  new ApiError(404, "not_found", `There is no ${path} endpoint. The API is described at /openapi.json.`);
