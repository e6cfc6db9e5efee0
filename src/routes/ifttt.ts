import type { Context, MiddlewareHandler } from "hono";
import { Hono } from "hono";
import { z } from "zod";
import { deps } from "../domain/deps";
import {
  fieldOptions,
  hasPhoneField,
  pollTrigger,
  runPlaceCall,
  TRIGGER_SLUGS,
  type TriggerSlug,
  userInfo,
  validatePhone,
} from "../domain/ifttt";
import { testSetup } from "../domain/ifttt-test-setup";
import type { Scope } from "../domain/key-signing";
import { authenticateOAuthToken, isOAuthToken, issuerFor, oauthServer, tooLongForOAuth } from "../domain/oauth";
import { ApiError } from "../errors";
import { assertScope, presentedKey } from "../http/auth";
import { timingSafeEqual } from "../http/timing-safe";
import type { AppEnv } from "../http/types";

/**
 * IFTTT's Service API (docs/ifttt.md), mounted at /ifttt/v1: status and test setup behind
 * IFTTT-Service-Key, everything else behind the user's OAuth access token (IFTTT's grant, for the
 * /v1 resource). Errors take IFTTT's shape in src/http/ifttt-errors.ts; unknown keys in a body
 * are ignored, as IFTTT's endpoint tests require.
 */
export const ifttt = new Hono<AppEnv>();

const serviceOff = () =>
  new ApiError(404, "not_found", "This bridge does not run the IFTTT service: IFTTT_SERVICE_KEY is not set.");

ifttt.use("*", async (c, next) => {
  if (!deps(c.env).cfg.ifttt) throw serviceOff();
  await next();
});

const requireServiceKey: MiddlewareHandler<AppEnv> = async (c, next) => {
  const key = deps(c.env).cfg.ifttt?.serviceKey ?? "";
  if (!(await timingSafeEqual(c.req.header("ifttt-service-key") ?? "", key)))
    throw new ApiError(401, "unauthorized", "Send the service key IFTTT's platform shows as IFTTT-Service-Key.");
  await next();
};

/** The user's OAuth access token (IFTTT's grant) holding `scope`; the key it acts through is the caller. */
const requireUser =
  (scope?: Scope): MiddlewareHandler<AppEnv> =>
  async (c, next) => {
    const token = presentedKey(c);
    const oauth = oauthServer(c.env, c.req.url);
    if (!token || !oauth || !isOAuthToken(token) || tooLongForOAuth(token))
      throw new ApiError(401, "invalid_token", "Send the user's access token as `Authorization: Bearer <token>`.");
    const auth = await authenticateOAuthToken(deps(c.env), oauth, "v1", token);
    if (scope) assertScope(auth, scope);
    c.set("auth", auth);
    await next();
  };

/** The JSON object IFTTT sent; anything else is a 400. */
async function body(c: Context<AppEnv>): Promise<Record<string, unknown>> {
  const parsed = await c.req.json().catch(() => null);
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
    throw new ApiError(400, "malformed_json", "Send a JSON object.");
  return parsed as Record<string, unknown>;
}

function parsed<T extends z.ZodType>(schema: T, value: unknown): z.infer<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  throw new ApiError(400, "validation_error", `${issue?.path.join(".") || "body"}: ${issue?.message ?? "is invalid"}`);
}

const Fields = z.record(z.string(), z.unknown());
const TriggerRequest = z.object({
  trigger_identity: z.string().min(1).max(255),
  triggerFields: Fields,
  limit: z.number().int().min(0).max(1_000_000).default(50),
});
const ActionRequest = z.object({ actionFields: Fields });
const ValidateRequest = z.object({ value: z.unknown() });
const origin = (c: Context<AppEnv>) => issuerFor(c.req.url);
const isTrigger = (slug: string): slug is TriggerSlug => (TRIGGER_SLUGS as readonly string[]).includes(slug);
const noSuch = (what: string) => new ApiError(404, "not_found", `${what} is not one of this service's.`);

ifttt.get("/status", requireServiceKey, (c) => c.json({ data: { status: "ok" } }));

ifttt.post("/test/setup", requireServiceKey, async (c) => {
  const d = deps(c.env);
  return c.json({ data: await testSetup(d, oauthServer(c.env, c.req.url)) });
});

ifttt.get("/user/info", requireUser(), async (c) =>
  c.json({ data: await userInfo(deps(c.env), c.get("auth").userId, origin(c)) }),
);

ifttt.post("/triggers/:slug", requireUser("calls:read"), async (c) => {
  const slug = c.req.param("slug");
  if (!isTrigger(slug)) throw noSuch(`The trigger ${slug}`);
  const req = parsed(TriggerRequest, await body(c));
  const items = await pollTrigger(
    deps(c.env),
    c.get("auth").userId,
    { slug, identity: req.trigger_identity, fields: req.triggerFields, limit: req.limit },
    origin(c),
  );
  return c.json({ data: items });
});

// IFTTT sends this with its service key when an applet is turned off or its fields change.
ifttt.delete("/triggers/:slug/trigger_identity/:identity", async (c, next) => {
  const presented = c.req.header("ifttt-service-key");
  return presented === undefined ? requireUser()(c, next) : requireServiceKey(c, next);
});
ifttt.delete("/triggers/:slug/trigger_identity/:identity", async (c) => {
  const slug = c.req.param("slug");
  if (!isTrigger(slug)) throw noSuch(`The trigger ${slug}`);
  await deps(c.env).ifttt.forgetIdentity(c.req.param("identity"), slug);
  return c.json({ data: {} });
});

ifttt.post("/actions/:slug", requireUser("calls:write"), async (c) => {
  if (c.req.param("slug") !== "place_call") throw noSuch(`The action ${c.req.param("slug")}`);
  const req = parsed(ActionRequest, await body(c));
  const data = await runPlaceCall(
    deps(c.env),
    c.get("auth"),
    req.actionFields,
    c.req.header("x-request-id"),
    origin(c),
  );
  return c.json({ data });
});

for (const step of ["triggers", "actions"] as const) {
  ifttt.post(`/${step}/:slug/fields/:field/options`, requireUser(), (c) => {
    const options = fieldOptions(step, c.req.param("slug"), c.req.param("field"));
    if (!options) throw noSuch(`The field ${c.req.param("field")} with options`);
    return c.json({ data: options });
  });
  ifttt.post(`/${step}/:slug/fields/:field/validate`, requireUser(), async (c) => {
    if (!hasPhoneField(step, c.req.param("slug"), c.req.param("field")))
      throw noSuch(`The field ${c.req.param("field")} with validation`);
    const req = parsed(ValidateRequest, await body(c));
    return c.json({ data: validatePhone(req.value, deps(c.env).cfg.defaults.country) });
  });
}
