import { Hono } from "hono";
import { endSession } from "../../domain/console-sessions";
import { deps } from "../../domain/deps";
import { unlink } from "../../domain/linking";
import { oauthServer } from "../../domain/oauth";
import { Confirm } from "../components";
import { consolePage } from "../respond";
import { type ConsoleEnv, clearSessionCookie, readSessionCookie } from "../session-middleware";

/** Signing out of the console, and unlinking the KallyAI account from the bridge. */
export const accountPages = new Hono<ConsoleEnv>();

accountPages.post("/sign-out", async (c) => {
  await endSession(deps(c.env), readSessionCookie(c));
  clearSessionCookie(c);
  return c.redirect("/?signed_out=1", 303);
});

accountPages.get("/unlink", (c) =>
  consolePage(c, {
    title: "Unlink",
    section: "overview",
    children: (
      <>
        <h1>Unlink your KallyAI account?</h1>
        <p>The bridge deletes the KallyAI sign-in it keeps for you. Then:</p>
        <ul>
          <li>every API key of this account stops working (Zapier, IFTTT, Shortcuts, the CLI get 401);</li>
          <li>trigger URLs stop placing calls;</li>
          <li>webhooks are disabled and receive no more events;</li>
          <li>you are signed out of this console, everywhere.</li>
        </ul>
        <p>Your calls at KallyAI are not touched. Signing in again links the account anew, with new keys.</p>
        <Confirm
          action="/console/unlink"
          csrf={c.get("session").csrf}
          confirm="Unlink the account"
          back="/console"
          keep="Keep it linked"
        />
      </>
    ),
  }),
);

accountPages.post("/unlink", async (c) => {
  await unlink(deps(c.env), c.get("session").auth.userId, oauthServer(c.env, c.req.url));
  clearSessionCookie(c);
  return c.redirect("/?unlinked=1", 303);
});
