import { Hono } from "hono";
import { resolveSession } from "../../domain/console-sessions";
import { deps } from "../../domain/deps";
import { Layout, render } from "../layout";
import { securePages } from "../security";
import { type ConsoleEnv, readSessionCookie } from "../session-middleware";

/** `/`: what the bridge is, and the way in. */
export const landing = new Hono<ConsoleEnv>();
landing.use("/", securePages()); // a path: without one, a mounted middleware would wrap every route of the app

landing.get("/", async (c) => {
  const d = deps(c.env);
  const session = await resolveSession(d, readSessionCookie(c));
  const q = c.req.query();
  const page = (
    <Layout title="Home">
      <section class="hero" aria-labelledby="title">
        <h1 id="title">KallyAI Bridge</h1>
        <p>KallyAI's AI phone calls, from the tools you automate with: Zapier, IFTTT, Make, n8n and iOS Shortcuts.</p>
        <p>
          Give each tool its own key, place calls from a form or a trigger URL, and hear when a call ends through
          webhooks.
        </p>
        <p>Everything works here in the browser; no terminal needed.</p>
        {q.signed_out ? (
          <p class="notice" role="status">
            You signed out.
          </p>
        ) : null}
        {q.unlinked ? (
          <p class="notice" role="status">
            Your KallyAI account was unlinked: its keys, trigger URLs and webhooks no longer work.
          </p>
        ) : null}
        <p>
          {session ? (
            <a class="button" href="/console">
              Open the console
            </a>
          ) : (
            <a class="button" href="/auth/login?return_to=%2Fconsole">
              Sign in with KallyAI
            </a>
          )}
          <a class="button secondary" href="/docs">
            API reference
          </a>
          <a class="button secondary" href="/console/recipes">
            Recipes
          </a>
        </p>
        {d.cfg.sandbox.enabled ? (
          <p class="small muted">
            Test mode: signing in goes to this bridge's KallyAI sandbox; no real calls are placed.
          </p>
        ) : null}
      </section>
    </Layout>
  );
  return c.html(await render(page), 200, { "cache-control": "no-store" });
});
