import type { MiddlewareHandler } from "hono";
import { toApiError } from "../errors";
import { escapeHtml, page } from "../shared/html";
import { prefersHtml } from "./negotiate";
import type { AppEnv } from "./types";

export interface ErrorPage {
  /** The page's <h1>, e.g. "Sign-in did not complete". */
  heading: string;
  /** Where to go next. */
  next?: { href: string; label: string };
}

/** The error of an answer: the error thrown, or the message of a JSON error answer (404, 405, 413…). */
async function errorOf(res: Response, thrown: Error | undefined): Promise<string> {
  if (thrown) return toApiError(thrown).message;
  const body = (await res
    .clone()
    .json()
    .catch(() => null)) as { error?: { message?: unknown } } | null;
  return typeof body?.error?.message === "string" ? body.error.message : "The request could not be completed.";
}

/**
 * For pages made for browsers only (sign-in, the console): when a browser (see prefersHtml) gets
 * an error, it sees a page with the same status and message instead of JSON. Mount it on the
 * page's own paths, never app-wide: every API path answers JSON errors whatever Accept says.
 */
export const htmlErrors =
  (view: ErrorPage): MiddlewareHandler<AppEnv> =>
  async (c, next) => {
    await next();
    const type = c.res.headers.get("content-type") ?? "";
    if (c.res.status < 400 || !type.startsWith("application/json") || !prefersHtml(c)) return;
    const message = await errorOf(c.res, c.error);
    const next_ = view.next ? `<p><a href="${escapeHtml(view.next.href)}">${escapeHtml(view.next.label)}</a></p>` : "";
    const body = `<h1>${escapeHtml(view.heading)}</h1><p>${escapeHtml(message)}</p>${next_}<p class="note">Reference: <code>${escapeHtml(c.get("requestId") ?? "")}</code></p>`;
    const json = c.res;
    const headers = new Headers(json.headers);
    headers.set("content-type", "text/html; charset=utf-8");
    headers.set("cache-control", "no-store");
    headers.delete("content-length");
    c.res = undefined; // replaced whole, not merged with the JSON answer's headers
    c.res = new Response(page(`${view.heading} — KallyAI Bridge`, body), { status: json.status, headers });
  };
