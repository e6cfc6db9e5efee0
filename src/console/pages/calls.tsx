import { Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { calendar, cancelCall, getCall, listCalls, placeCall, recording, transcript } from "../../domain/calls";
import { type Deps, deps } from "../../domain/deps";
import { callSentence } from "../../domain/speech";
import { toApiError } from "../../errors";
import { CATEGORIES, LANGUAGES } from "../../shared/call-input";
import { parseCallRequest } from "../../shared/call-request";
import { CALL_STATUSES, type CallStatus, isCallStatus, statusLabel } from "../../shared/call-status";
import type { CallView } from "../../shared/call-view";
import { Badge, Empty, Field, FormAlert, inputAttrs, Pager, PostForm, Time } from "../components";
import { type Ctx, consolePage, cursorPage, FORM_ERRORS, formErrors, formOf, redirectWith, text } from "../respond";
import type { ConsoleEnv } from "../session-middleware";

export const callPages = new Hono<ConsoleEnv>();

const PAGE_SIZE = 20;
const FIELDS = [
  "phone",
  "task",
  "category",
  "language",
  "name",
  "business",
  "party_size",
  "date",
  "time",
  "time_preference",
  "timezone",
  "instructions",
  "country",
  "user_phone",
  "urgent",
] as const;
type CallField = (typeof FIELDS)[number];
type CallFormValues = Partial<Record<CallField | "idempotency_key", string>>;
type CallFormErrors = Partial<Record<CallField | "form", string>>;

/* ---------- history ---------- */

function StatusFilter({ status }: { status: CallStatus | "" }) {
  return (
    <form method="get" action="/console/calls" class="card">
      <label for="status-filter">Show</label>
      <select id="status-filter" name="status">
        <option value="">All calls</option>
        {CALL_STATUSES.map((s) => (
          <option value={s} selected={s === status}>
            {statusLabel(s)}
          </option>
        ))}
      </select>
      <button type="submit" class="secondary">
        Filter
      </button>
    </form>
  );
}

/** Why the list is empty: the end of the pages, a filter nothing matches, or no call yet. */
function NoCallsBecause({ cursor, status }: { cursor: string | undefined; status: CallStatus | "" }) {
  if (cursor) return <p>No more calls.</p>;
  if (status) return <p>{`No calls with status “${statusLabel(status)}”.`}</p>;
  return <p>No calls yet. Place your first one from the form, a trigger URL, or any tool with a key.</p>;
}

function NoCalls({ cursor, status }: { cursor: string | undefined; status: CallStatus | "" }) {
  return (
    <Empty>
      <NoCallsBecause cursor={cursor} status={status} />
      <p>
        <a href="/console/calls/new">Place a call</a>
      </p>
    </Empty>
  );
}

function CallRows({ calls }: { calls: CallView[] }) {
  return (
    <ul class="rows" aria-label="Calls, newest first">
      {calls.map((call) => (
        <li>
          <div class="row-head">
            <a class="title" href={`/console/calls/${encodeURIComponent(call.id)}`}>
              {call.business ?? call.phone ?? call.id}
            </a>
            <Badge status={call.status} />
            <Time at={call.created_at} />
          </div>
          <p class="small muted">{call.highlights ?? call.task ?? ""}</p>
        </li>
      ))}
    </ul>
  );
}

callPages.get("/calls", async (c) => {
  const { auth } = c.get("session");
  const asked = c.req.query("status") ?? "";
  const status = isCallStatus(asked) ? asked : "";
  const cursor = c.req.query("cursor") || undefined;
  const page = await cursorPage(() =>
    listCalls(deps(c.env), auth.userId, { limit: PAGE_SIZE, cursor, status: status ? [status] : undefined }),
  );
  const filtered = (extra: Record<string, string>) =>
    `/console/calls?${new URLSearchParams({ ...(status ? { status } : {}), ...extra })}`;
  return consolePage(c, {
    title: "Calls",
    section: "calls",
    children: (
      <>
        <h1>Calls</h1>
        <p>
          <a class="button" href="/console/calls/new">
            Place a call
          </a>
        </p>
        <StatusFilter status={status} />
        {page.items.length === 0 ? <NoCalls cursor={cursor} status={status} /> : <CallRows calls={page.items} />}
        <Pager
          what="calls"
          newest={cursor ? filtered({}) : null}
          older={page.next_cursor ? filtered({ cursor: page.next_cursor }) : null}
        />
      </>
    ),
  });
});

/* ---------- the form ---------- */

/** What each part of the call form shows: what was typed, and what to fix. */
interface CallFormState {
  values: CallFormValues;
  errors: CallFormErrors;
}

/** The attributes of an input (tied to its label, hint and error), and the value typed in it. */
function inputsOf({ values, errors }: CallFormState) {
  return {
    attrs: (name: CallField, hint = false) => inputAttrs(name, { error: errors[name], hint }),
    v: (name: keyof CallFormValues) => values[name] ?? "",
  };
}

function PhoneFields({ defaults, ...form }: CallFormState & { defaults: { country: string } }) {
  const { attrs, v } = inputsOf(form);
  return (
    <div class="grid two">
      <Field
        label="Phone number to call"
        name="phone"
        error={form.errors.phone}
        hint={`Any format: +1 415 555 1234, (415) 555-1234… National numbers are read as ${defaults.country} unless you set the country below.`}
      >
        <input {...attrs("phone", true)} type="tel" required autocomplete="off" value={v("phone")} />
      </Field>
      <Field
        label="Country of national numbers"
        name="country"
        error={form.errors.country}
        hint="Two letters, e.g. US, GB, ES. Optional."
      >
        <input {...attrs("country", true)} type="text" maxlength={2} autocomplete="off" value={v("country")} />
      </Field>
    </div>
  );
}

function ChoiceFields(form: CallFormState) {
  const { attrs, v } = inputsOf(form);
  return (
    <>
      <Field label="Category" name="category" error={form.errors.category}>
        <select {...attrs("category")}>
          {CATEGORIES.map((cat) => (
            <option value={cat} selected={(v("category") || "general") === cat}>
              {cat}
            </option>
          ))}
        </select>
      </Field>
      <Field label="Language" name="language" error={form.errors.language}>
        <select {...attrs("language")}>
          {LANGUAGES.map((lang) => (
            <option value={lang} selected={(v("language") || "en") === lang}>
              {lang === "en" ? "English" : "Spanish"}
            </option>
          ))}
        </select>
      </Field>
    </>
  );
}

function WhoFields(form: CallFormState) {
  const { attrs, v } = inputsOf(form);
  return (
    <>
      <Field label="Your name" name="name" error={form.errors.name} hint="Who the AI calls on behalf of. Optional.">
        <input {...attrs("name", true)} type="text" maxlength={100} autocomplete="name" value={v("name")} />
      </Field>
      <Field label="Business" name="business" error={form.errors.business} hint="Optional.">
        <input {...attrs("business", true)} type="text" maxlength={200} autocomplete="off" value={v("business")} />
      </Field>
      <Field label="Party size" name="party_size" error={form.errors.party_size} hint="1 to 50. Optional.">
        <input
          {...attrs("party_size", true)}
          type="number"
          inputmode="numeric"
          min="1"
          max="50"
          value={v("party_size")}
        />
      </Field>
    </>
  );
}

function WhenFields(form: CallFormState) {
  const { attrs, v } = inputsOf(form);
  return (
    <>
      <Field label="Date" name="date" error={form.errors.date} hint="Optional.">
        <input {...attrs("date", true)} type="date" value={v("date")} />
      </Field>
      <Field label="Time" name="time" error={form.errors.time} hint="Optional.">
        <input {...attrs("time", true)} type="time" value={v("time")} />
      </Field>
      <Field
        label="Time preference"
        name="time_preference"
        error={form.errors.time_preference}
        hint="e.g. “morning before 11am”. Optional."
      >
        <input {...attrs("time_preference", true)} type="text" maxlength={200} value={v("time_preference")} />
      </Field>
      <Field
        label="Timezone"
        name="timezone"
        error={form.errors.timezone}
        hint="An IANA name such as America/New_York. Filled with your browser's."
      >
        <input
          {...attrs("timezone", true)}
          type="text"
          data-default-timezone=""
          autocomplete="off"
          value={v("timezone")}
        />
      </Field>
    </>
  );
}

function CallForm({ csrf, defaults, ...form }: CallFormState & { csrf: string; defaults: { country: string } }) {
  const { attrs, v } = inputsOf(form);
  const { errors } = form;
  return (
    <PostForm action="/console/calls" csrf={csrf}>
      <input type="hidden" name="idempotency_key" value={v("idempotency_key")} />
      <FormAlert error={errors.form} />
      <PhoneFields {...form} defaults={defaults} />
      <Field
        label="What should the AI do?"
        name="task"
        error={errors.task}
        hint="At least 10 characters, e.g. “Reserve a table for 4 at 8pm”."
      >
        <textarea {...attrs("task", true)} required maxlength={1000}>
          {v("task")}
        </textarea>
      </Field>
      <div class="grid two">
        <ChoiceFields {...form} />
        <WhoFields {...form} />
        <WhenFields {...form} />
        <Field
          label="Your phone"
          name="user_phone"
          error={errors.user_phone}
          hint="If the business should call you back. Optional."
        >
          <input {...attrs("user_phone", true)} type="tel" autocomplete="tel" value={v("user_phone")} />
        </Field>
      </div>
      <Field label="Extra instructions" name="instructions" error={errors.instructions} hint="One per line. Optional.">
        <textarea {...attrs("instructions", true)} maxlength={2000}>
          {v("instructions")}
        </textarea>
      </Field>
      <label class="check">
        <input type="checkbox" name="urgent" value="true" checked={v("urgent") === "true"} />
        Urgent
      </label>
      <button type="submit">Place the call</button>
    </PostForm>
  );
}

async function renderForm(c: Ctx, values: CallFormValues, errors: CallFormErrors, status: ContentfulStatusCode = 200) {
  const d = deps(c.env);
  return consolePage(
    c,
    {
      title: "Place a call",
      section: "calls",
      children: (
        <>
          <h1>Place a call</h1>
          <p class="muted">The AI calls the number and does the task. You can follow the call on its page.</p>
          <CallForm csrf={c.get("session").csrf} values={values} errors={errors} defaults={d.cfg.defaults} />
        </>
      ),
    },
    status,
  );
}

callPages.get("/calls/new", (c) => renderForm(c, { idempotency_key: crypto.randomUUID() }, {}));

callPages.post("/calls", async (c) => {
  const d = deps(c.env);
  const form = await formOf(c);
  const values: CallFormValues = {};
  for (const name of [...FIELDS, "idempotency_key"] as const) values[name] = text(form[name]);
  // Blank fields were left out, not sent empty.
  const fields = Object.fromEntries(
    Object.entries(values).filter(([name, value]) => value !== "" && name !== "idempotency_key"),
  );
  try {
    const request = parseCallRequest(fields, d.cfg.defaults);
    const placed = await placeCall(d, c.get("session").auth, request, values.idempotency_key || undefined);
    return redirectWith(c, `/console/calls/${encodeURIComponent(placed.id)}`, {
      notice: `Calling ${request.submission.business_name ?? request.submission.respondent_phone} now.`,
    });
  } catch (err) {
    const errors = formErrors(err, FIELDS);
    // A refused call may be sent again as a new one.
    return renderForm(c, { ...values, idempotency_key: crypto.randomUUID() }, errors, FORM_ERRORS);
  }
});

/* ---------- one call ---------- */

const statusText = (call: CallView) =>
  call.finished ? `Finished: ${statusLabel(call.status)}` : `Running: ${statusLabel(call.status)}`;

/** A call that booked something (a table, an appointment, a room, on a date) may have a calendar event at KallyAI. */
const mayHaveEvent = (call: CallView) => call.status === "success" && call.category !== "general" && Boolean(call.date);

/** What KallyAI says now, or why it could not say (the rest of the page shows regardless). */
async function optional<T>(work: Promise<T>): Promise<T | string> {
  try {
    return await work;
  } catch (err) {
    return toApiError(err).message;
  }
}

callPages.get("/calls/:id/status", async (c) => {
  const call = await getCall(deps(c.env), c.get("session").auth.userId, c.req.param("id"));
  return c.json({ id: call.id, status: call.status, finished: call.finished, status_text: statusText(call) });
});

/** What an ended call left: its transcript and recording, or why KallyAI could not give each. */
interface Afterwards {
  said: Awaited<ReturnType<typeof transcript>> | string;
  recorded: Awaited<ReturnType<typeof recording>> | string;
}

async function afterwardsOf(d: Deps, userId: string, id: string): Promise<Afterwards> {
  const [said, recorded] = await Promise.all([optional(transcript(d, userId, id)), optional(recording(d, userId, id))]);
  return { said, recorded };
}

/** The status line, which the script keeps current while the call runs. */
function CallStatusLine({ call, path }: { call: CallView; path: string }) {
  return (
    <p>
      <Badge status={call.status} />{" "}
      <strong role="status" data-live={call.finished ? undefined : `${path}/status`} data-status={call.status}>
        {statusText(call)}
      </strong>
    </p>
  );
}

/** A link to the event the call booked, which KallyAI serves as calendar.ics. */
function AddToCalendar({ call, path }: { call: CallView; path: string }) {
  if (!mayHaveEvent(call)) return null;
  return (
    <p>
      <a class="button" href={`${path}/calendar.ics`} download={`call-${call.id}.ics`}>
        Add to calendar
      </a>
    </p>
  );
}

function Outcome({ call, path }: { call: CallView; path: string }) {
  return (
    <section class="card" aria-labelledby="outcome">
      <h2 id="outcome">Outcome</h2>
      <p>{callSentence(call)}</p>
      <AddToCalendar call={call} path={path} />
      <dl class="facts">
        <dt>Highlights</dt>
        <dd>{call.highlights ?? "—"}</dd>
        <dt>Next steps</dt>
        <dd>{call.next_steps ?? "—"}</dd>
        <dt>Duration</dt>
        <dd>{call.duration_seconds === null ? "—" : `${call.duration_seconds} s`}</dd>
        <dt>Ended</dt>
        <dd>
          <Time at={call.ended_at} />
        </dd>
      </dl>
    </section>
  );
}

/** A fact shown only when the call has it. */
function OptionalFact({ term, value }: { term: string; value: string | number | null | undefined }) {
  if (value === null || value === undefined || value === "") return null;
  return (
    <>
      <dt>{term}</dt>
      <dd>{value}</dd>
    </>
  );
}

function CallFacts({ call }: { call: CallView }) {
  return (
    <dl class="facts">
      <dt>Call id</dt>
      <dd>
        <code>{call.id}</code>
      </dd>
      <dt>Placed</dt>
      <dd>
        <Time at={call.created_at} />
      </dd>
      <dt>Phone</dt>
      <dd>{call.phone ?? "—"}</dd>
      <dt>Task</dt>
      <dd>{call.task ?? "—"}</dd>
      <dt>Category</dt>
      <dd>{call.category ?? "—"}</dd>
      <OptionalFact term="On behalf of" value={call.name} />
      <OptionalFact term="Party size" value={call.party_size} />
      <OptionalFact
        term="When"
        value={call.date || call.time ? [call.date, call.time, call.timezone].filter(Boolean).join(" ") : null}
      />
      <OptionalFact term="Time preference" value={call.time_preference} />
      <OptionalFact term="Instructions" value={call.instructions?.join("; ")} />
    </dl>
  );
}

const speakerName = (speaker: string) => (speaker === "HUMAN" ? "Them" : speaker);

/** What was said, or why it cannot be shown (KallyAI's refusal comes as text). */
function Transcript({ said }: Pick<Afterwards, "said">) {
  if (typeof said === "string") return <p class="muted">{said}</p>;
  if (said.entries.length === 0) return <p class="muted">Nothing was said.</p>;
  return (
    <ol class="transcript" aria-label="Transcript">
      {said.entries.map((e) => (
        <li>
          <span class="speaker">{speakerName(e.speaker)}</span>
          {e.content}
        </li>
      ))}
    </ol>
  );
}

/** A link to the recording; only web addresses become links. */
function Recording({ recorded }: Pick<Afterwards, "recorded">) {
  if (typeof recorded === "string") return <p class="muted">{recorded}</p>;
  if (!/^https?:\/\//.test(recorded.recording_url)) return <p class="muted">No recording.</p>;
  return (
    <p>
      <a href={recorded.recording_url} rel="noreferrer">
        Listen to the recording
      </a>
    </p>
  );
}

function CallPage({ call, csrf, afterwards }: { call: CallView; csrf: string; afterwards?: Afterwards }) {
  const path = `/console/calls/${encodeURIComponent(call.id)}`;
  return (
    <>
      <p>
        <a href="/console/calls">← All calls</a>
      </p>
      <h1>{`Call to ${call.business ?? call.phone ?? "…"}`}</h1>
      <CallStatusLine call={call} path={path} />
      {call.finished ? (
        <Outcome call={call} path={path} />
      ) : (
        <>
          <p class="small muted">This page follows the call and shows the outcome when it ends.</p>
          <PostForm action={`${path}/cancel`} csrf={csrf}>
            <button type="submit" class="danger">
              Cancel the call
            </button>
          </PostForm>
        </>
      )}
      <h2>Details</h2>
      <CallFacts call={call} />
      {afterwards ? (
        <>
          <h2>Transcript</h2>
          <Transcript said={afterwards.said} />
          <h2>Recording</h2>
          <Recording recorded={afterwards.recorded} />
        </>
      ) : null}
    </>
  );
}

callPages.get("/calls/:id", async (c) => {
  const d = deps(c.env);
  const { auth, csrf } = c.get("session");
  const call = await getCall(d, auth.userId, c.req.param("id"));
  // "expired" is the bridge's word for a call KallyAI never reported the end of: nothing to ask it for.
  const ended = call.finished && call.status !== "expired";
  const afterwards = ended ? await afterwardsOf(d, auth.userId, call.id) : undefined;
  return consolePage(c, {
    title: `Call to ${call.business ?? call.phone ?? call.id}`,
    section: "calls",
    refreshSeconds: call.finished ? undefined : 5,
    children: <CallPage call={call} csrf={csrf} afterwards={afterwards} />,
  });
});

/** The event the call booked, for the calendar app ("Add to calendar"). */
callPages.get("/calls/:id/calendar.ics", async (c) => {
  const id = c.req.param("id");
  const ics = await calendar(deps(c.env), c.get("session").auth.userId, id);
  return c.body(ics, 200, {
    "content-type": "text/calendar; charset=utf-8",
    "content-disposition": `attachment; filename="call-${id.replace(/[^A-Za-z0-9_.-]/g, "")}.ics"`,
  });
});

callPages.post("/calls/:id/cancel", async (c) => {
  const id = c.req.param("id");
  try {
    const call = await cancelCall(deps(c.env), c.get("session").auth.userId, id);
    return redirectWith(c, `/console/calls/${encodeURIComponent(call.id)}`, {
      notice: `The call is ${statusLabel(call.status)}.`,
    });
  } catch (err) {
    const e = toApiError(err);
    if (e.code !== "cannot_cancel" && e.code !== "call_already_ended") throw err;
    return redirectWith(c, `/console/calls/${encodeURIComponent(id)}`, { notice: e.message });
  }
});
