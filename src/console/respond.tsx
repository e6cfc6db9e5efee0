import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { z } from "zod";
import { type Flash, setFlash, takeFlash } from "../domain/console-sessions";
import { deps } from "../domain/deps";
import { ApiError, toApiError } from "../errors";
import { Layout, type PageProps, render } from "./layout";
import type { ConsoleEnv } from "./session-middleware";

export type Ctx = Context<ConsoleEnv>;

/** Answers a console page: the layout around it, the session's CSRF token and its one-time flash. */
export async function consolePage(
  c: Ctx,
  props: Omit<PageProps, "csrf" | "flash">,
  status: ContentfulStatusCode = 200,
) {
  const session = c.get("session");
  const flash = await takeFlash(deps(c.env), session);
  return c.html(await render(<Layout {...props} csrf={session.csrf} flash={flash} />), status);
}

/**
 * A form sent back with what to fix is a page like any other (200): browsers log a 4xx page as a
 * console error, and the person did nothing wrong by mistyping.
 */
export const FORM_ERRORS = 200;

/**
 * What a refused form says, by field: each message goes under the field it names (an
 * ApiError's `field`, a zod issue's path; `submission.x` names `submission`) when the form has
 * that field, else to `fallback`, the form's own alert. Only the first message per field shows.
 * A 5xx or anything unexpected is no mistake of the person's: it is thrown on to the error page.
 */
export function formErrors<Field extends string>(
  err: unknown,
  fields: readonly Field[],
  fallback: Field | "form" = "form",
): Partial<Record<Field | "form", string>> {
  const errors: Partial<Record<Field | "form", string>> = {};
  const put = (field: PropertyKey | undefined, message: string) => {
    const named = fields.find((f) => f === String(field ?? "").split(".")[0]);
    errors[named ?? fallback] ??= message;
  };
  if (err instanceof z.ZodError) {
    for (const issue of err.issues) put(issue.path[0], issue.message);
    return errors;
  }
  const e = toApiError(err);
  if (e.status >= 500) throw err;
  put(e.extra.field, e.message);
  return errors;
}

/**
 * One page of a cursor-paged list (the API's domain function and cursor). A stale or edited
 * `?cursor=` is the domain's 4xx: the page shows no rows and its pager's way back to the newest,
 * rather than an error page for a link the person did not make.
 */
export async function cursorPage<Item>(load: () => Promise<{ items: Item[]; next_cursor: string | null }>) {
  try {
    return await load();
  } catch (err) {
    if (!(err instanceof ApiError) || err.status >= 500) throw err;
    return { items: [] as Item[], next_cursor: null };
  }
}

/** Post/redirect/get: the answer to a form is a redirect; what to say is kept for the next page. */
export async function redirectWith(c: Ctx, path: string, flash?: Flash) {
  if (flash) {
    const s = c.get("session");
    await setFlash(deps(c.env), { tokenHash: s.tokenHash, userId: s.auth.userId }, flash);
  }
  return c.redirect(path, 303);
}

/** A form's fields as text; repeated names (checkboxes) as lists. */
export async function formOf(c: Ctx): Promise<Record<string, string | string[]>> {
  const body = await c.req.parseBody({ all: true });
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(body)) {
    if (name === "_csrf") continue;
    if (Array.isArray(value)) out[name] = value.filter((v): v is string => typeof v === "string");
    else if (typeof value === "string") out[name] = value;
  }
  return out;
}

export const text = (v: string | string[] | undefined) => (Array.isArray(v) ? (v[0] ?? "") : (v ?? "")).trim();
export const list = (v: string | string[] | undefined) => (Array.isArray(v) ? v : v ? [v] : []);
