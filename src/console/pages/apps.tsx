import { Hono } from "hono";
import { deps } from "../../domain/deps";
import {
  type ConnectedApp,
  connectedApps,
  type OAuthServer,
  oauthServer,
  RESOURCES,
  revokeApp,
} from "../../domain/oauth";
import { ApiError, notFound } from "../../errors";
import { Confirm, Empty, Time } from "../components";
import { type Ctx, consolePage, redirectWith } from "../respond";
import type { ConsoleEnv } from "../session-middleware";

/** Connected apps: what each app connected by OAuth may do, and revoking it (docs/oauth.md). */
export const appPages = new Hono<ConsoleEnv>();

function requireOAuth(c: Ctx): OAuthServer {
  const server = oauthServer(c.env, c.req.url);
  if (!server) throw new ApiError(404, "not_found", "This bridge has no OAuth server, so no app is connected by it.");
  return server;
}

function AppList({ apps }: { apps: ConnectedApp[] }) {
  if (apps.length === 0)
    return (
      <Empty>
        <p>No app is connected. Claude, ChatGPT and Zapier connect from their own side: add the bridge there.</p>
      </Empty>
    );
  return (
    <ul class="rows" aria-label="Connected apps">
      {apps.map((app) => (
        <li>
          <div class="row-head">
            <span class="title">{app.name}</span>
            <span class="badge plain">{app.resource ? RESOURCES[app.resource].name : "legacy grant"}</span>
          </div>
          <dl class="facts small">
            <dt>Client</dt>
            <dd>
              <code>{app.clientId}</code>
            </dd>
            <dt>May</dt>
            <dd>{app.scopes.join(", ")}</dd>
            <dt>Calls per hour</dt>
            <dd>{app.callsPerHour ?? "—"}</dd>
            <dt>Connected</dt>
            <dd>
              <Time at={app.createdAt} />
            </dd>
            <dt>Last used</dt>
            <dd>{app.lastUsedAt ? <Time at={app.lastUsedAt} /> : "never"}</dd>
          </dl>
          <a class="button secondary" href={`/console/apps/${encodeURIComponent(app.grantId)}/revoke`}>
            Revoke<span class="vh">{` ${app.name}`}</span>…
          </a>
        </li>
      ))}
    </ul>
  );
}

appPages.get("/apps", async (c) => {
  const apps = await connectedApps(deps(c.env), requireOAuth(c), c.get("session").auth.userId);
  return consolePage(c, {
    title: "Connected apps",
    section: "apps",
    children: (
      <>
        <h1>Connected apps</h1>
        <p>
          Apps you allowed on a consent page (Claude, ChatGPT, Zapier…). Each acts through its own grant: revoking one
          stops only that app, at once. Signing out of the console ends none of them; unlinking your account ends all.
        </p>
        <AppList apps={apps} />
      </>
    ),
  });
});

async function ownApp(c: Ctx, grantId: string): Promise<ConnectedApp> {
  const apps = await connectedApps(deps(c.env), requireOAuth(c), c.get("session").auth.userId);
  const app = apps.find((a) => a.grantId === grantId);
  if (!app) throw notFound("That connected app", "It may have been revoked already.");
  return app;
}

appPages.get("/apps/:grant/revoke", async (c) => {
  const app = await ownApp(c, c.req.param("grant"));
  return consolePage(c, {
    title: `Revoke ${app.name}`,
    section: "apps",
    children: (
      <>
        <h1>{`Revoke “${app.name}”?`}</h1>
        <p>
          Its access and refresh tokens stop working at once: its next request gets <code>401 invalid_token</code>. To
          use it again, connect it again from the app.
        </p>
        <Confirm
          action={`/console/apps/${encodeURIComponent(app.grantId)}/revoke`}
          csrf={c.get("session").csrf}
          confirm="Revoke the app"
          back="/console/apps"
        />
      </>
    ),
  });
});

appPages.post("/apps/:grant/revoke", async (c) => {
  const grant = c.req.param("grant");
  const { auth } = c.get("session");
  if (!(await revokeApp(deps(c.env), requireOAuth(c), auth.userId, grant)))
    throw notFound("That connected app", "It may have been revoked already.");
  return redirectWith(c, "/console/apps", { notice: "The app was revoked: its tokens no longer work." });
});
