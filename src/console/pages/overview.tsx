import { Hono } from "hono";
import { billingPortal, type Subscription, subscription, type Usage, usage } from "../../domain/account";
import type { Authenticated } from "../../domain/api-keys";
import { deps } from "../../domain/deps";
import { toApiError } from "../../errors";
import type { UserRow } from "../../storage/accounts";
import { Time } from "../components";
import { consolePage } from "../respond";
import { type ConsoleEnv, signInUrl } from "../session-middleware";

export const overviewPage = new Hono<ConsoleEnv>();

/** What KallyAI said, or why it could not be asked (the page shows the rest either way). */
type Settled<T> = { ok: true; value: T } | { ok: false; code: string; message: string };

async function settle<T>(work: Promise<T>): Promise<Settled<T>> {
  try {
    return { ok: true, value: await work };
  } catch (err) {
    const e = toApiError(err);
    return { ok: false, code: e.code, message: e.message };
  }
}

function Meter({
  label,
  used,
  allocated,
  unit,
}: {
  label: string;
  used: number | null;
  allocated: number | null;
  unit: string;
}) {
  if (used === null || allocated === null) return <p>{`${label}: not reported by KallyAI.`}</p>;
  const id = `meter-${label.toLowerCase()}`;
  return (
    <div>
      <p id={id}>
        <strong>{label}</strong>: {`${used} of ${allocated} ${unit} used (${Math.max(0, allocated - used)} left)`}
      </p>
      <progress
        aria-labelledby={id}
        value={String(Math.min(used, allocated))}
        max={String(Math.max(allocated, 1))}
      >{`${used} of ${allocated}`}</progress>
    </div>
  );
}

function Plan({ used, sub }: { used: Usage; sub: Subscription | null }) {
  const plan = sub?.plan?.type ?? used.plan_type ?? "unknown";
  return (
    <dl class="facts">
      <dt>Plan</dt>
      <dd>
        {plan}
        {sub?.plan?.period ? ` (${sub.plan.period})` : ""}
      </dd>
      <dt>Status</dt>
      <dd>{sub?.status ?? used.subscription_status ?? "—"}</dd>
      <dt>{sub?.auto_renew === false ? "Ends" : "Renews"}</dt>
      <dd>
        <Time at={sub?.expires_at ?? used.period_end} />
      </dd>
      <dt>This period</dt>
      <dd>
        <Time at={used.period_start} /> to <Time at={used.period_end} />
      </dd>
    </dl>
  );
}

function RelinkAlert() {
  return (
    <section class="alert" aria-labelledby="relink-title">
      <h2 id="relink-title">KallyAI no longer accepts this bridge's sign-in</h2>
      <p>
        Calls, usage and webhooks of this account stop until you sign in to KallyAI again. Your keys, trigger URLs and
        webhooks stay as they are.
      </p>
      <a class="button" href={signInUrl("/console")}>
        Relink with KallyAI
      </a>
    </section>
  );
}

function LinkedAccount({ user, auth }: { user: UserRow | null; auth: Authenticated }) {
  return (
    <section class="card" aria-labelledby="account-title">
      <h2 id="account-title">Linked account</h2>
      <dl class="facts">
        <dt>KallyAI account</dt>
        <dd>
          <code>{user?.kallyai_account ?? "not named by KallyAI"}</code>
        </dd>
        <dt>Bridge user</dt>
        <dd>
          <code>{auth.userId}</code>
        </dd>
        <dt>Link</dt>
        <dd>{user?.link_state ?? "unlinked"}</dd>
        <dt>This console acts as</dt>
        <dd>
          key <code>{auth.key.id}</code> ({auth.key.name})
        </dd>
      </dl>
      <p class="small">
        <a href="/console/unlink">Unlink this account…</a>
      </p>
    </section>
  );
}

function PlanAndUsage({ used, sub }: { used: Settled<Usage>; sub: Settled<Subscription> }) {
  return (
    <section class="card" aria-labelledby="usage-title">
      <h2 id="usage-title">Plan and usage</h2>
      {used.ok ? (
        <>
          <Meter
            label="Minutes"
            used={used.value.minutes_used}
            allocated={used.value.minutes_allocated}
            unit="minutes"
          />
          <Meter label="Calls" used={used.value.calls_used} allocated={used.value.calls_allocated} unit="calls" />
          <Plan used={used.value} sub={sub.ok ? sub.value : null} />
          <p>
            <a href="/console/billing">Open the billing portal</a>{" "}
            <span class="small muted">(KallyAI's, in this window)</span>
          </p>
        </>
      ) : (
        <p class="alert">{`KallyAI could not be asked: ${used.message}`}</p>
      )}
    </section>
  );
}

function NextSteps() {
  return (
    <ol class="steps">
      <li>
        <a href="/console/keys">Give each tool its own key</a>, so you can revoke one without touching the others.
      </li>
      <li>
        <a href="/console/calls/new">Place a call</a> from the form, and read what was said.
      </li>
      <li>
        <a href="/console/webhooks">Add a webhook</a> to hear about every finished call in Zapier, Make or n8n.
      </li>
      <li>
        <a href="/console/triggers">Make a trigger URL</a> for an iOS Shortcut or IFTTT.
      </li>
      <li>
        <a href="/console/recipes">Follow a recipe</a> for your tool.
      </li>
    </ol>
  );
}

overviewPage.get("/", async (c) => {
  const d = deps(c.env);
  const { auth } = c.get("session");
  const [user, used, sub] = await Promise.all([
    d.accounts.user(auth.userId),
    settle(usage(d, auth.userId)),
    settle(subscription(d, auth.userId)),
  ]);
  const relink = user?.link_state === "relink_required" || (!used.ok && used.code === "relink_required");
  return consolePage(c, {
    title: "Overview",
    section: "overview",
    children: (
      <>
        <h1>Overview</h1>
        {relink ? <RelinkAlert /> : null}
        <div class="grid two">
          <LinkedAccount user={user} auth={auth} />
          <PlanAndUsage used={used} sub={sub} />
        </div>
        <h2>Next steps</h2>
        <NextSteps />
      </>
    ),
  });
});

overviewPage.get("/billing", async (c) =>
  c.redirect((await billingPortal(deps(c.env), c.get("session").auth.userId)).portal_url, 303),
);
