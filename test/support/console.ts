import { exports } from "cloudflare:workers";
import { expect } from "vitest";

/** What the browser does in the console tests: requests to the worker with cookies, no redirects followed. */
export type Fetcher = (path: string, init?: RequestInit) => Promise<Response>;
export const LOCAL = "http://localhost:8787";
export const local: Fetcher = (path, init) =>
  exports.default.fetch(new Request(LOCAL + path, { redirect: "manual", ...init }));

export const cookieOf = (res: Response, name = "kallyai_console") => {
  const header = res.headers.getSetCookie().find((c) => c.startsWith(`${name}=`));
  return header ? header.split(";")[0]! : undefined;
};

/** Follows KallyAI's (the sandbox's) sign-in form the way a browser submits it. */
export async function signInAtSandbox(loginLocation: string, email: string): Promise<URL> {
  const form = await fetch(loginLocation);
  expect(form.status).toBe(200);
  const html = await form.text();
  const hidden = Object.fromEntries(
    [...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)].map((m) => [
      m[1]!,
      m[2]!.replace(/&#38;/g, "&"),
    ]),
  );
  const action = new URL(html.match(/action="([^"]+)"/)![1]!, loginLocation);
  const submitted = await fetch(action, {
    method: "POST",
    body: new URLSearchParams({ ...hidden, email }),
    redirect: "manual",
  });
  expect(submitted.status).toBe(302);
  return new URL(submitted.headers.get("location")!);
}

/** The secret a console page shows once (a new key, a webhook secret, a trigger URL), if any. */
export const revealed = (html: string) =>
  html.match(/<code id="revealed">([^<]+)<\/code>/)?.[1]?.replace(/&amp;/g, "&");

/** The CSRF token of the forms on a console page. */
export const csrfOf = (html: string) => html.match(/name="_csrf" value="([^"]+)"/)![1]!;

export interface ConsoleUser {
  cookie: string;
  apiKey: string;
  /** The first console page after sign-in (with the key shown once). */
  firstPage: string;
  location: string;
}

/** Signs in through /auth/login and the sandbox, as a browser would; ends on the first console page. */
export async function consoleSignIn(
  email = `person-${crypto.randomUUID()}@example.com`,
  opts: { returnTo?: string; fetcher?: Fetcher; cookie?: string } = {},
): Promise<ConsoleUser> {
  const f = opts.fetcher ?? local;
  const login = await f(`/auth/login${opts.returnTo ? `?return_to=${encodeURIComponent(opts.returnTo)}` : ""}`);
  expect(login.status).toBe(302);
  const authCookies = login.headers
    .getSetCookie()
    .map((c) => c.split(";")[0]!)
    .filter((c) => !c.endsWith("="));
  const callback = await signInAtSandbox(login.headers.get("location")!, email);
  const cookies = [...authCookies, ...(opts.cookie ? [opts.cookie] : [])].join("; ");
  // Each test person signs in from an address of their own: callbacks count against the link rate limit per address.
  const address = `10.${[0, 0, 0].map(() => Math.floor(Math.random() * 250)).join(".")}`
    .split(".")
    .slice(0, 4)
    .join(".");
  const done = await f(callback.pathname + callback.search, {
    headers: { cookie: cookies, "cf-connecting-ip": address },
  });
  expect(done.status).toBe(303);
  const cookie = cookieOf(done)!;
  expect(cookie).toBeTruthy();
  const location = done.headers.get("location")!;
  const page = await f(location, { headers: { cookie } });
  expect(page.status).toBe(200);
  const firstPage = await page.text();
  return { cookie, apiKey: revealed(firstPage)!, firstPage, location };
}

/** Posts a console form as the browser would: same origin, with the page's CSRF token. */
export async function postForm(
  user: { cookie: string },
  path: string,
  fields: Record<string, string | string[]>,
  opts: { csrf?: string; origin?: string | null; fetcher?: Fetcher } = {},
) {
  const f = opts.fetcher ?? local;
  const csrf = opts.csrf ?? csrfOf(await (await f("/console", { headers: { cookie: user.cookie } })).text());
  const body = new URLSearchParams({ _csrf: csrf });
  for (const [k, v] of Object.entries(fields)) for (const one of Array.isArray(v) ? v : [v]) body.append(k, one);
  const headers: Record<string, string> = { cookie: user.cookie, "content-type": "application/x-www-form-urlencoded" };
  if (opts.origin !== null) headers.origin = opts.origin ?? LOCAL;
  return f(path, { method: "POST", body, headers });
}
