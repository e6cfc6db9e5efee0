import type { MiddlewareHandler } from "hono";
import { PAGE_STYLE } from "../shared/html";
import { addHeaders } from "./response-headers";

/**
 * What a page may load beyond itself. Inline `<script>` and `<style>` blocks are allowed by the
 * hash of their exact text (pass the same strings the page embeds); inline event handlers and
 * `style="…"` attributes are never allowed: there is no 'unsafe-inline'.
 */
export interface PagePolicy {
  /** Exact text of each inline <script> block the page has. */
  scripts?: readonly string[];
  /** Exact text of each inline <style> block beyond the shared page stylesheet. */
  styles?: readonly string[];
  /** Extra origins for fetch()/XHR; the page's own origin is always allowed. */
  connect?: readonly string[];
  /** Where the page's forms may post; by default any (the sandbox's sign-in posts, then redirects to a loopback address). */
  formAction?: readonly string[];
}

/** Answers of every kind get these. */
export const COMMON_HEADERS = { "x-content-type-options": "nosniff" } as const;

/** HTML pages get these and a Content-Security-Policy. */
export const PAGE_HEADERS = {
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  "cross-origin-opener-policy": "same-origin",
  "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=()",
} as const;

const hashes = new Map<string, Promise<string>>();

/** The CSP source for an inline block: 'sha256-<base64 of SHA-256 of its exact text>'. */
export function sourceHash(text: string): Promise<string> {
  let hash = hashes.get(text);
  if (!hash) {
    hash = crypto.subtle
      .digest("SHA-256", new TextEncoder().encode(text))
      .then((d) => `'sha256-${btoa(String.fromCharCode(...new Uint8Array(d)))}'`);
    hashes.set(text, hash);
  }
  return hash;
}

/** The Content-Security-Policy of a page: nothing from elsewhere, no framing, inline blocks only by hash. */
export async function contentSecurityPolicy(policy: PagePolicy = {}): Promise<string> {
  const styles = await Promise.all([PAGE_STYLE, ...(policy.styles ?? [])].map(sourceHash));
  const scripts = await Promise.all((policy.scripts ?? []).map(sourceHash));
  return [
    "default-src 'none'",
    `style-src ${styles.join(" ")}`,
    `script-src ${scripts.length ? scripts.join(" ") : "'none'"}`,
    "img-src 'self' data:",
    `connect-src ${["'self'", ...(policy.connect ?? [])].join(" ")}`,
    ...(policy.formAction ? [`form-action ${policy.formAction.join(" ")}`] : []),
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}

const isHtml = (res: Response) => (res.headers.get("content-type") ?? "").toLowerCase().startsWith("text/html");

/**
 * Security headers for the answers of the paths it is mounted on. The app mounts it once for
 * every answer (so no HTML page goes out without them); a page with inline scripts mounts its
 * own, with their text in `policy`, on its paths: the innermost one sets the policy.
 */
export const securityHeaders =
  (policy: PagePolicy = {}): MiddlewareHandler =>
  async (c, next) => {
    await next();
    addHeaders(c, COMMON_HEADERS);
    if (isHtml(c.res))
      addHeaders(c, { "content-security-policy": await contentSecurityPolicy(policy), ...PAGE_HEADERS });
  };
