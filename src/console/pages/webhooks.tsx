import { Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { retryDelivery } from "../../domain/deliveries";
import { deps } from "../../domain/deps";
import { EVENT_TYPES, type EventType } from "../../domain/events";
import {
  createWebhook,
  deleteWebhook,
  enableWebhook,
  listDeliveries,
  listTests,
  listWebhooks,
  ownWebhook,
  testWebhook,
  viewOf,
} from "../../domain/webhooks";
import { toApiError } from "../../errors";
import { Badge, Checkboxes, Confirm, Empty, Field, FormAlert, inputAttrs, Pager, PostForm, Time } from "../components";
import {
  type Ctx,
  consolePage,
  cursorPage,
  FORM_ERRORS,
  formErrors,
  formOf,
  list,
  redirectWith,
  text,
} from "../respond";
import type { ConsoleEnv } from "../session-middleware";

export const webhookPages = new Hono<ConsoleEnv>();

const EVENT_HELP: Record<EventType, string> = {
  "call.completed": "every finished call (its status says how it ended)",
  "call.succeeded": "calls that succeeded",
  "call.failed": "failed, busy, unanswered, voicemail or cancelled calls",
  "call.expired": "calls with no outcome within 6 hours",
};

type WebhookFormValues = {
  kind: string;
  url: string;
  event: string;
  key: string;
  events: string[];
  description: string;
};
type Errors = Partial<Record<keyof WebhookFormValues | "form", string>>;
type WebhookView = ReturnType<typeof viewOf>;
type DeliveryView = Awaited<ReturnType<typeof listDeliveries>>["items"][number];
type TestView = Awaited<ReturnType<typeof listTests>>[number];
const DELIVERIES_PER_PAGE = 50;

/** What the receiver answered to one attempt, without saying the status twice. */
function attemptAnswer(a: { status_code: number | null; error: string | null }) {
  const status = a.status_code !== null ? `HTTP ${a.status_code}` : "no answer";
  return a.error && a.error !== status ? `${status} (${a.error})` : status;
}

function KindFieldset({ kind }: { kind: string }) {
  return (
    <fieldset>
      <legend>Send events to</legend>
      <label class="check">
        <input type="radio" name="kind" value="webhook" checked={kind !== "ifttt"} />
        An address (Zapier, Make, n8n, your server): signed POSTs
      </label>
      <label class="check">
        <input type="radio" name="kind" value="ifttt" checked={kind === "ifttt"} />
        IFTTT's Webhooks trigger (value1 = status, value2 = highlights, value3 = next steps)
      </label>
    </fieldset>
  );
}

function IftttFields({ values, errors }: { values: WebhookFormValues; errors: Errors }) {
  return (
    <div class="grid two">
      <Field
        label="IFTTT event name (for IFTTT)"
        name="event"
        error={errors.event}
        hint="As in your applet's “Receive a web request” trigger."
      >
        <input
          {...inputAttrs("event", { error: errors.event, hint: true })}
          type="text"
          autocomplete="off"
          value={values.event}
        />
      </Field>
      <Field
        label="IFTTT Webhooks key (for IFTTT)"
        name="key"
        error={errors.key}
        hint="From ifttt.com/maker_webhooks/settings. Stored encrypted."
      >
        <input {...inputAttrs("key", { error: errors.key, hint: true })} type="password" autocomplete="off" value="" />
      </Field>
    </div>
  );
}

function WebhookForm({ csrf, values, errors }: { csrf: string; values: WebhookFormValues; errors: Errors }) {
  return (
    <PostForm action="/console/webhooks" csrf={csrf}>
      <FormAlert error={errors.form} />
      <KindFieldset kind={values.kind} />
      <Field
        label="Address (for an address)"
        name="url"
        error={errors.url}
        hint="https://… where your tool listens, e.g. a Zapier “Catch Hook” URL."
      >
        <input
          {...inputAttrs("url", { error: errors.url, hint: true })}
          type="url"
          inputmode="url"
          autocomplete="off"
          value={values.url}
        />
      </Field>
      <IftttFields values={values} errors={errors} />
      <Checkboxes
        name="events"
        legend="Events"
        options={EVENT_TYPES}
        help={EVENT_HELP}
        checked={values.events}
        error={errors.events}
      />
      <Field
        label="Description"
        name="description"
        error={errors.description}
        hint="Optional, for you: e.g. “Zap: log calls to a sheet”."
      >
        <input
          {...inputAttrs("description", { error: errors.description, hint: true })}
          type="text"
          maxlength={200}
          value={values.description}
        />
      </Field>
      <button type="submit">Add the webhook</button>
    </PostForm>
  );
}

function WebhookRows({ webhooks }: { webhooks: WebhookView[] }) {
  return (
    <ul class="rows" aria-label="Webhooks">
      {webhooks.map((w) => (
        <li>
          <div class="row-head">
            <a class="title" href={`/console/webhooks/${encodeURIComponent(w.id)}`}>
              {w.description ?? w.url}
            </a>
            <Badge status={w.state} />
          </div>
          <p class="small">
            <code>{w.url}</code>
          </p>
          <p class="small muted">{`Events: ${w.events.join(", ")}`}</p>
          {w.state === "disabled" ? (
            <p class="small">{`Disabled: ${w.disabled_reason ?? "no reason recorded"}`}</p>
          ) : null}
          <p class="small">
            <a href={`/console/webhooks/${encodeURIComponent(w.id)}`}>Deliveries and actions</a>
          </p>
        </li>
      ))}
    </ul>
  );
}

async function renderList(c: Ctx, values: WebhookFormValues, errors: Errors, status: ContentfulStatusCode = 200) {
  const { auth, csrf } = c.get("session");
  const { items } = await listWebhooks(deps(c.env), auth.userId);
  return consolePage(
    c,
    {
      title: "Webhooks",
      section: "webhooks",
      children: (
        <>
          <h1>Webhooks</h1>
          <p>
            When a call ends, the bridge sends the event to each matching webhook, signed per Standard Webhooks, and
            retries for up to a day.
          </p>
          <h2>Your webhooks</h2>
          {items.length === 0 ? (
            <Empty>
              <p>
                No webhooks yet. Add one below with the address your tool gives you (Zapier's “Catch Hook”, Make's
                “Custom webhook”, n8n's “Webhook” node).
              </p>
            </Empty>
          ) : (
            <WebhookRows webhooks={items} />
          )}
          <section class="card" aria-labelledby="new-webhook">
            <h2 id="new-webhook">Add a webhook</h2>
            <WebhookForm csrf={csrf} values={values} errors={errors} />
          </section>
        </>
      ),
    },
    status,
  );
}

webhookPages.get("/webhooks", (c) =>
  renderList(c, { kind: "webhook", url: "", event: "", key: "", events: ["call.completed"], description: "" }, {}),
);

webhookPages.post("/webhooks", async (c) => {
  const form = await formOf(c);
  const values: WebhookFormValues = {
    kind: text(form.kind) === "ifttt" ? "ifttt" : "webhook",
    url: text(form.url),
    event: text(form.event),
    key: text(form.key),
    events: list(form.events),
    description: text(form.description),
  };
  const events = values.events.filter((e): e is EventType => (EVENT_TYPES as readonly string[]).includes(e));
  if (events.length === 0) return renderList(c, values, { events: "Pick at least one event." }, FORM_ERRORS);
  if (values.description.length > 200)
    return renderList(c, values, { description: "At most 200 characters." }, FORM_ERRORS);
  try {
    const created = await createWebhook(deps(c.env), c.get("session").auth.userId, {
      kind: values.kind as "webhook" | "ifttt",
      url: values.url || undefined,
      event: values.event || undefined,
      key: values.key || undefined,
      events,
      description: values.description || undefined,
    });
    const path = `/console/webhooks/${encodeURIComponent(created.id)}`;
    if (!("secret" in created)) return redirectWith(c, path, { notice: "The IFTTT webhook was added." });
    return redirectWith(c, path, {
      notice: "The webhook was added.",
      reveal: {
        label: "Its signing secret",
        value: created.secret,
        note: "Verify the webhook-signature header of each delivery with it (Standard Webhooks).",
      },
    });
  } catch (err) {
    return renderList(c, values, formErrors(err, ["url", "event", "key", "events", "description"]), FORM_ERRORS);
  }
});

function WebhookFacts({ w }: { w: WebhookView }) {
  return (
    <dl class="facts">
      <dt>State</dt>
      <dd>
        <Badge status={w.state} />
        {w.state === "disabled" ? ` ${w.disabled_reason ?? ""}` : ""}
      </dd>
      {w.disabled_at ? (
        <>
          <dt>Disabled</dt>
          <dd>
            <Time at={w.disabled_at} />
          </dd>
        </>
      ) : null}
      <dt>Sends to</dt>
      <dd>
        <code>{w.url}</code>
      </dd>
      <dt>Events</dt>
      <dd>{w.events.join(", ")}</dd>
      <dt>Id</dt>
      <dd>
        <code>{w.id}</code>
      </dd>
      <dt>Added</dt>
      <dd>
        <Time at={w.created_at} />
      </dd>
    </dl>
  );
}

/** Re-enable a disabled webhook, or test an active one; delete either. */
function WebhookActions({ w, path, csrf }: { w: WebhookView; path: string; csrf: string }) {
  return (
    <div class="actions">
      {w.state === "disabled" ? (
        <PostForm action={`${path}/enable`} csrf={csrf} class="inline">
          <button type="submit">Re-enable</button>
        </PostForm>
      ) : (
        <PostForm action={`${path}/test`} csrf={csrf} class="inline">
          <button type="submit" class="secondary">
            Send a test event
          </button>
        </PostForm>
      )}
      <a class="button secondary" href={`${path}/delete`}>
        Delete…
      </a>
    </div>
  );
}

function NoDeliveries({ cursor }: { cursor: string | undefined }) {
  if (cursor) return <p>No more deliveries.</p>;
  return (
    <p>
      No deliveries yet. One appears here for each event after this webhook was added: place a call and wait for it to
      end, or use “Send a test event” above.
    </p>
  );
}

/** JSON laid out for reading; anything else as it came. */
function readable(body: string): string {
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
}

/** A body behind a disclosure, so that a long log stays scannable. */
function Body({ summary, body }: { summary: string; body: string | null }) {
  if (body === null) return null;
  return (
    <details>
      <summary>{summary}</summary>
      <pre>
        <code>{body === "" ? "(empty)" : readable(body)}</code>
      </pre>
    </details>
  );
}

type AttemptView = { at: string; status_code: number | null; error: string | null; duration_ms: number };

function AttemptLine({ a, label }: { a: AttemptView & { response_body: string | null }; label: string }) {
  return (
    <li>
      <Time at={a.at} />
      {` — ${attemptAnswer(a)}, ${a.duration_ms} ms`}
      <Body summary={`${label}: the answer (first 2 KB)`} body={a.response_body} />
    </li>
  );
}

/** One delivery: its state, the body it sends, every attempt with its answer, and retry or send-again. */
function DeliveryRow({ dl, csrf, retry }: { dl: DeliveryView; csrf: string; retry: boolean }) {
  const succeeded = dl.state === "succeeded";
  return (
    <li>
      <div class="row-head">
        <span class="title">{dl.event_type}</span>
        <Badge status={dl.state} />
        <Time at={dl.created_at} />
      </div>
      <dl class="facts small">
        <dt>webhook-id</dt>
        <dd>
          <code>{dl.event_id}</code>
        </dd>
        <dt>Attempts</dt>
        <dd>{dl.attempts}</dd>
        <dt>Last answer</dt>
        <dd>{dl.last_status !== null ? `HTTP ${dl.last_status}` : (dl.last_error ?? "—")}</dd>
        <dt>Next try</dt>
        <dd>{dl.next_attempt_at ? <Time at={dl.next_attempt_at} /> : "none"}</dd>
      </dl>
      <Body summary="Request body" body={dl.request_body} />
      {dl.attempt_log.length ? (
        <ol class="small" aria-label={`Attempts of ${dl.id}`}>
          {dl.attempt_log.map((a) => (
            <AttemptLine a={a} label={`Attempt ${a.attempt}`} />
          ))}
        </ol>
      ) : null}
      {retry ? (
        <PostForm action={`/console/deliveries/${encodeURIComponent(dl.id)}/retry`} csrf={csrf} class="inline">
          <button type="submit" class="secondary">
            {succeeded ? "Send again" : "Retry now"}
            <span class="vh">{` (delivery ${dl.id})`}</span>
          </button>
        </PostForm>
      ) : null}
    </li>
  );
}

/** A test delivery: marked as a test, with what was sent and what came back. */
function TestRow({ t }: { t: TestView }) {
  return (
    <li>
      <div class="row-head">
        <span class="title">{t.event_type}</span>
        <span class="badge plain">test</span>
        <Badge status={t.delivered ? "succeeded" : "failed"} />
        <Time at={t.at} />
      </div>
      <dl class="facts small">
        <dt>webhook-id</dt>
        <dd>
          <code>{t.event_id}</code>
        </dd>
      </dl>
      <Body summary="Request body" body={t.request_body} />
      <ol class="small" aria-label={`Attempts of ${t.event_id}`}>
        <AttemptLine a={t} label="Test" />
      </ol>
    </li>
  );
}

function TestDeliveries({ tests }: { tests: TestView[] }) {
  if (tests.length === 0) return null;
  return (
    <>
      <h2>Test deliveries</h2>
      <p class="small muted">The newest test events sent with “Send a test event”; they are not retried.</p>
      <ul class="rows" aria-label="Test deliveries, newest first">
        {tests.map((t) => (
          <TestRow t={t} />
        ))}
      </ul>
    </>
  );
}

webhookPages.get("/webhooks/:id", async (c) => {
  const d = deps(c.env);
  const { auth, csrf } = c.get("session");
  const w = viewOf(await ownWebhook(d, auth.userId, c.req.param("id")));
  const cursor = c.req.query("cursor") || undefined;
  const { items, next_cursor } = await cursorPage(() =>
    listDeliveries(d, auth.userId, w.id, { limit: DELIVERIES_PER_PAGE, cursor }),
  );
  const tests = cursor ? [] : await listTests(d, auth.userId, w.id);
  const path = `/console/webhooks/${encodeURIComponent(w.id)}`;
  return consolePage(c, {
    title: `Webhook ${w.description ?? w.id}`,
    section: "webhooks",
    children: (
      <>
        <p>
          <a href="/console/webhooks">← All webhooks</a>
        </p>
        <h1>{w.description ?? "Webhook"}</h1>
        <WebhookFacts w={w} />
        <WebhookActions w={w} path={path} csrf={csrf} />
        <TestDeliveries tests={tests} />
        <h2>Deliveries</h2>
        {items.length === 0 ? (
          <Empty>
            <NoDeliveries cursor={cursor} />
          </Empty>
        ) : (
          <ul class="rows" aria-label="Deliveries, newest first">
            {items.map((dl) => (
              <DeliveryRow dl={dl} csrf={csrf} retry={w.state === "active"} />
            ))}
          </ul>
        )}
        <Pager
          what="deliveries"
          newest={cursor ? path : null}
          older={next_cursor ? `${path}?${new URLSearchParams({ cursor: next_cursor })}` : null}
        />
      </>
    ),
  });
});

webhookPages.post("/webhooks/:id/test", async (c) => {
  const id = c.req.param("id");
  const sent = await testWebhook(deps(c.env), c.get("session").auth.userId, id);
  const answer = sent.status_code !== null ? `HTTP ${sent.status_code}` : (sent.error ?? "no answer");
  const path = `/console/webhooks/${encodeURIComponent(id)}`;
  return redirectWith(
    c,
    path,
    sent.delivered
      ? { notice: `Test event delivered: ${answer} in ${sent.duration_ms} ms.` }
      : { error: `The test event was not accepted: ${answer}.` },
  );
});

webhookPages.post("/webhooks/:id/enable", async (c) => {
  const id = c.req.param("id");
  const path = `/console/webhooks/${encodeURIComponent(id)}`;
  try {
    await enableWebhook(deps(c.env), c.get("session").auth.userId, id);
  } catch (err) {
    const e = toApiError(err);
    if (e.status >= 500 || e.status === 404) throw err;
    return redirectWith(c, path, { error: e.message });
  }
  return redirectWith(c, path, { notice: "The webhook is active again: events from now on are sent to it." });
});

webhookPages.get("/webhooks/:id/delete", async (c) => {
  const { auth, csrf } = c.get("session");
  const w = viewOf(await ownWebhook(deps(c.env), auth.userId, c.req.param("id")));
  return consolePage(c, {
    title: "Delete webhook",
    section: "webhooks",
    children: (
      <>
        <h1>Delete this webhook?</h1>
        <p>
          Events stop going to <code>{w.url}</code>, and its delivery log is deleted with it.
        </p>
        <Confirm
          action={`/console/webhooks/${encodeURIComponent(w.id)}/delete`}
          csrf={csrf}
          confirm="Delete the webhook"
          back={`/console/webhooks/${encodeURIComponent(w.id)}`}
        />
      </>
    ),
  });
});

webhookPages.post("/webhooks/:id/delete", async (c) => {
  const id = c.req.param("id");
  const userId = c.get("session").auth.userId;
  await ownWebhook(deps(c.env), userId, id); // the API's delete is idempotent; a person deleting another's gets "not found"
  await deleteWebhook(deps(c.env), userId, id);
  return redirectWith(c, "/console/webhooks", { notice: "The webhook was deleted." });
});

webhookPages.post("/deliveries/:id/retry", async (c) => {
  const d = deps(c.env);
  const userId = c.get("session").auth.userId;
  const id = c.req.param("id");
  const delivery = await d.webhooks.delivery(id);
  const back =
    delivery && delivery.user_id === userId
      ? `/console/webhooks/${encodeURIComponent(delivery.webhook_id)}`
      : "/console/webhooks";
  let result: Awaited<ReturnType<typeof retryDelivery>>;
  try {
    result = await retryDelivery(d, userId, id);
  } catch (err) {
    const e = toApiError(err);
    if (e.status >= 500 || e.status === 404) throw err;
    return redirectWith(c, back, { error: e.message });
  }
  const answer = result.last_status !== null ? `HTTP ${result.last_status}` : (result.last_error ?? "no answer");
  const verb = delivery?.state === "succeeded" ? "Sent again" : "Retried";
  return redirectWith(c, result.subscription_removed ? "/console/webhooks" : back, {
    [result.state === "succeeded" ? "notice" : "error"]:
      `${verb}: ${answer} (attempt ${result.attempts}).${result.subscription_removed ? " The receiver answered 410 Gone, so the webhook was removed." : ""}`,
  });
});
