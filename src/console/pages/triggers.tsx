import { Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { actingAs } from "../../domain/api-keys";
import { deps } from "../../domain/deps";
import { createTrigger, editTrigger, OPENABLE_FIELDS, triggerJson } from "../../domain/triggers";
import { ApiError, notFound } from "../../errors";
import { CATEGORIES, LANGUAGE_NAMES, LANGUAGES } from "../../shared/call-input";
import { Checkboxes, Confirm, Empty, Field, FormAlert, inputAttrs, PostForm, Time } from "../components";
import { placeholdersOf, triggerExamples } from "../examples";
import { type Ctx, consolePage, FORM_ERRORS, formErrors, formOf, list, redirectWith, text } from "../respond";
import type { ConsoleEnv } from "../session-middleware";

export const triggerPages = new Hono<ConsoleEnv>();

/** The call fields a template may set, as the form offers them (all text: any may hold a {{placeholder}}). */
const TEMPLATE_FIELDS: Array<[string, string, string?]> = [
  ["phone", "Phone number to call", "Any format, or {{value1}} to send it with each hit."],
  ["task", "What should the AI do?", "e.g. “Ask whether they have {{value1}} in stock”."],
  ["category", "Category"],
  ["language", "Language"],
  ["business", "Business"],
  ["name", "Your name"],
  ["party_size", "Party size"],
  ["date", "Date", "YYYY-MM-DD"],
  ["time", "Time", "HH:MM, 24-hour"],
  ["time_preference", "Time preference"],
  ["timezone", "Timezone", "e.g. America/New_York"],
  ["instructions", "Extra instructions"],
];

/**
 * What a hit may set when a trigger leaves the field open, for the open-fields checkboxes (worded
 * apart from the inputs' labels, so that each label names one control).
 */
const OPEN_FIELD_HELP: Partial<Record<string, string>> = {
  phone: "a hit may call another number",
  task: "a hit may give another task",
  category: "the kind of business",
  language: "the language of the summary",
  call_language: "the language spoken on the call",
  name: "who the call is for",
  business: "the business's name",
  party_size: "how many people",
  date: "the day",
  time: "the hour",
  time_preference: "when, in words",
  timezone: "the zone of the date and hour",
  user_phone: "a number to call back",
  urgent: "marks the call urgent",
  instructions: "more instructions",
  country: "the country of a number written without +",
};

/** Every field of the form: its own two, the template's, and the open fields. */
const FORM_FIELDS = ["trigger_name", "key_id", ...TEMPLATE_FIELDS.map(([name]) => name), "open_fields"];

/** The form's template fields as a trigger's template: blanks left out, instructions split at ";". */
function templateOf(values: Values): Record<string, string | string[]> {
  const template: Record<string, string | string[]> = {};
  for (const [field] of TEMPLATE_FIELDS) {
    const value = values[field];
    if (value) template[field] = field === "instructions" ? value.split(/\s*;\s*|\n/).filter(Boolean) : value;
  }
  return template;
}

/** Fields with a fixed set of values: the same drop-downs as the call form, with its defaults. */
const CHOICES: Record<string, { options: Array<[string, string]>; initial: string }> = {
  category: { options: CATEGORIES.map((c) => [c, c]), initial: "general" },
  language: { options: LANGUAGES.map((l) => [l, LANGUAGE_NAMES[l]]), initial: "en" },
};

type Values = Record<string, string>;
type Errors = Partial<Record<string, string>>;
type TriggerView = ReturnType<typeof triggerJson>;
type KeyRow = Awaited<ReturnType<typeof callKeys>>[number];
/** The form's values: text fields, and the open fields ticked. */
type FormValues = { text: Values; open: string[] };

async function callKeys(c: Ctx) {
  const { auth } = c.get("session");
  const rows = (await deps(c.env).keys.listWorking(auth.userId, Date.now())).results;
  return rows.filter((k) => k.scopes.split(" ").includes("calls:write"));
}

function TriggerRows({ triggers }: { triggers: TriggerView[] }) {
  return (
    <ul class="rows" aria-label="Trigger URLs">
      {triggers.map((t) => (
        <li>
          <div class="row-head">
            <span class="title">{t.name}</span>
            <code>{t.id}</code>
          </div>
          <dl class="facts small">
            {Object.entries(t.fields).map(([field, value]) => (
              <>
                <dt>{field}</dt>
                <dd>{Array.isArray(value) ? value.join("; ") : String(value)}</dd>
              </>
            ))}
            <dt>Created</dt>
            <dd>
              <Time at={t.created_at} />
            </dd>
            <dt>A hit may set</dt>
            <dd>
              <OpenFields trigger={t} />
            </dd>
            <dt>Last hit</dt>
            <dd>{t.last_used_at ? <Time at={t.last_used_at} /> : "never"}</dd>
          </dl>
          <a class="button secondary" href={`/console/triggers/${encodeURIComponent(t.id)}/edit`}>
            {t.open ? "Edit and lock" : "Edit"}
            <span class="vh">{` ${t.name}`}</span>…
          </a>{" "}
          <a class="button secondary" href={`/console/triggers/${encodeURIComponent(t.id)}/revoke`}>
            Revoke<span class="vh">{` ${t.name}`}</span>…
          </a>
        </li>
      ))}
    </ul>
  );
}

/** What a hit may set beyond the placeholders; a trigger made before fields were locked is "open". */
function OpenFields({ trigger }: { trigger: TriggerView }) {
  if (trigger.open)
    return (
      <>
        <span class="badge wait">open</span> any call field, as before fields were locked: a leaked URL can call another
        number. Edit it to lock it.
      </>
    );
  if (trigger.open_fields.length === 0) return <>only its placeholders</>;
  return <>its placeholders and {trigger.open_fields.join(", ")}</>;
}

/** The template's fields (any may hold a {{placeholder}}) and the fields a hit may set. */
/** A template field: a drop-down where the call form has one, else free text (it may hold {{value1}}). */
function TemplateInput({ name, value, error, hint }: { name: string; value?: string; error?: string; hint: boolean }) {
  const choice = CHOICES[name];
  if (!choice)
    return <input {...inputAttrs(name, { error, hint })} type="text" autocomplete="off" value={value ?? ""} />;
  return (
    <select {...inputAttrs(name, { error, hint })}>
      {choice.options.map(([option, label]) => (
        <option value={option} selected={(value || choice.initial) === option}>
          {label}
        </option>
      ))}
    </select>
  );
}

function TemplateFields({ values, errors }: { values: FormValues; errors: Errors }) {
  return (
    <>
      <div class="grid two">
        {TEMPLATE_FIELDS.map(([name, label, hint]) => (
          <Field label={label} name={name} error={errors[name]} hint={hint}>
            <TemplateInput name={name} value={values.text[name]} error={errors[name]} hint={Boolean(hint)} />
          </Field>
        ))}
      </div>
      <Checkboxes
        name="open_fields"
        legend="Fields a hit may set (all others are locked to what you fill in above)"
        options={OPENABLE_FIELDS}
        help={OPEN_FIELD_HELP}
        checked={values.open}
        error={errors.open_fields}
      />
    </>
  );
}

function TriggerForm({
  csrf,
  keys,
  defaultKeyId,
  values,
  errors,
}: {
  csrf: string;
  keys: KeyRow[];
  defaultKeyId: string;
  values: FormValues;
  errors: Errors;
}) {
  return (
    <PostForm action="/console/triggers" csrf={csrf}>
      <FormAlert error={errors.form} />
      {/* trigger_name, not name: the template's own "name" field (Your name) is in this form too. */}
      <Field label="Name" name="trigger_name" error={errors.trigger_name} hint="For you, e.g. “Oat milk check”.">
        <input
          {...inputAttrs("trigger_name", { error: errors.trigger_name, hint: true })}
          type="text"
          required
          maxlength={100}
          value={values.text.trigger_name ?? ""}
        />
      </Field>
      <Field
        label="Acts as key"
        name="key_id"
        error={errors.key_id}
        hint="Its hourly call limit applies; revoking the key stops the URL too."
      >
        <select {...inputAttrs("key_id", { error: errors.key_id, hint: true })}>
          {keys.map((k) => (
            <option value={k.id} selected={(values.text.key_id || defaultKeyId) === k.id}>
              {`${k.name} (${k.id})`}
            </option>
          ))}
        </select>
      </Field>
      <TemplateFields values={values} errors={errors} />
      <button type="submit">Make the trigger URL</button>
    </PostForm>
  );
}

async function renderTriggers(c: Ctx, values: FormValues, errors: Errors, status: ContentfulStatusCode = 200) {
  const { auth, csrf } = c.get("session");
  const [rows, keys] = await Promise.all([deps(c.env).triggers.list(auth.userId), callKeys(c)]);
  const triggers = rows.results.map(triggerJson);
  return consolePage(
    c,
    {
      title: "Trigger URLs",
      section: "triggers",
      children: (
        <>
          <h1>Trigger URLs</h1>
          <p>
            A trigger URL places a call when anything opens it: an iOS Shortcut, IFTTT, a bookmark, a QR code. It needs
            no key: the URL itself is the secret, so it is shown only once.
          </p>
          <h2>Your trigger URLs</h2>
          {triggers.length === 0 ? (
            <Empty>
              <p>
                No trigger URLs yet. Make one below: fill in what stays the same, and put {"{{value1}}"} where each hit
                should fill something in.
              </p>
            </Empty>
          ) : (
            <TriggerRows triggers={triggers} />
          )}
          <section class="card" aria-labelledby="new-trigger">
            <h2 id="new-trigger">Make a trigger URL</h2>
            {keys.length === 0 ? (
              <p class="alert">
                No active key may place calls. Create one with the calls:write scope on the Keys page first.
              </p>
            ) : (
              <TriggerForm csrf={csrf} keys={keys} defaultKeyId={auth.key.id} values={values} errors={errors} />
            )}
          </section>
        </>
      ),
    },
    status,
  );
}

triggerPages.get("/triggers", (c) => renderTriggers(c, { text: {}, open: [] }, {}));

/** The form's values as posted. */
async function postedValues(c: Ctx, own: string[]): Promise<FormValues> {
  const form = await formOf(c);
  const values: Values = {};
  for (const field of [...own, ...TEMPLATE_FIELDS.map(([name]) => name)]) values[field] = text(form[field]);
  return { text: values, open: list(form.open_fields) };
}

triggerPages.post("/triggers", async (c) => {
  const d = deps(c.env);
  const { auth } = c.get("session");
  const values = await postedValues(c, ["trigger_name", "key_id"]);
  const triggerName = values.text.trigger_name ?? "";
  const refuse = (errors: Errors) => renderTriggers(c, values, errors, FORM_ERRORS);
  if (!triggerName) return refuse({ trigger_name: "Give the trigger URL a name." });
  if (triggerName.length > 100) return refuse({ trigger_name: "At most 100 characters." });
  const key = (await callKeys(c)).find((k) => k.id === (values.text.key_id || auth.key.id));
  if (!key) return refuse({ key_id: "Pick an active key that may place calls." });
  const template = templateOf(values.text);
  if (!template.phone && !template.task) return refuse({ phone: "Set the phone number (or {{value1}}) and the task." });
  try {
    const origin = new URL(c.req.url).origin;
    const created = await createTrigger(
      d,
      actingAs(key),
      { name: triggerName, template, openFields: values.open },
      origin,
    );
    return redirectWith(c, "/console/triggers", {
      notice: `The trigger URL “${created.name}” was made.`,
      reveal: {
        label: `The URL of “${created.name}”`,
        value: created.url,
        note: "Anyone with this URL can place this call: keep it like a password.",
        examples: triggerExamples(created.url, placeholdersOf(template)),
      },
    });
  } catch (err) {
    return refuse(formErrors(err, FORM_FIELDS));
  }
});

async function ownTrigger(c: Ctx, id: string) {
  const row = await deps(c.env).triggers.get(id, c.get("session").auth.userId);
  if (!row || row.revoked_at !== null) throw notFound(`Trigger URL ${id}`, "It may have been revoked already.");
  return row;
}

triggerPages.get("/triggers/:id/revoke", async (c) => {
  const t = await ownTrigger(c, c.req.param("id"));
  return consolePage(c, {
    title: `Revoke ${t.name}`,
    section: "triggers",
    children: (
      <>
        <h1>{`Revoke “${t.name}”?`}</h1>
        <p>
          Its URL answers “not found” from now on: Shortcuts, applets and links that use it stop placing calls. This
          cannot be undone.
        </p>
        <Confirm
          action={`/console/triggers/${encodeURIComponent(t.id)}/revoke`}
          csrf={c.get("session").csrf}
          confirm="Revoke the URL"
          back="/console/triggers"
        />
      </>
    ),
  });
});

triggerPages.post("/triggers/:id/revoke", async (c) => {
  const id = c.req.param("id");
  if (!(await deps(c.env).triggers.revoke(id, c.get("session").auth.userId)))
    throw new ApiError(404, "not_found", `Trigger URL ${id} was not found. It may have been revoked already.`);
  return redirectWith(c, "/console/triggers", { notice: `The trigger URL ${id} was revoked.` });
});

/** A trigger's template as the form shows it: every value as text, instructions joined by ";". */
function formValuesOf(t: TriggerView): FormValues {
  const values: Values = { trigger_name: t.name };
  for (const [field, value] of Object.entries(t.fields))
    values[field] = Array.isArray(value) ? value.join("; ") : String(value);
  // A trigger still open is locked by saving: nothing is ticked until the person ticks it.
  return { text: values, open: t.open ? [] : t.open_fields };
}

function renderEdit(c: Ctx, t: TriggerView, values: FormValues, errors: Errors, status: ContentfulStatusCode = 200) {
  const action = `/console/triggers/${encodeURIComponent(t.id)}/edit`;
  return consolePage(
    c,
    {
      title: `Edit ${t.name}`,
      section: "triggers",
      children: (
        <>
          <h1>{`Edit “${t.name}”`}</h1>
          <p>The URL stays the same. A hit fills the {"{{placeholders}}"} and may set only the fields ticked below.</p>
          {t.open ? (
            <p class="alert">
              This trigger URL is <strong>open</strong>: it was made before fields were locked, so a hit may set any
              call field, including the number and the task. Saving locks it.
            </p>
          ) : null}
          <PostForm action={action} csrf={c.get("session").csrf}>
            <FormAlert error={errors.form} />
            <Field label="Name" name="trigger_name" error={errors.trigger_name} hint="For you.">
              <input
                {...inputAttrs("trigger_name", { error: errors.trigger_name, hint: true })}
                type="text"
                required
                maxlength={100}
                value={values.text.trigger_name ?? ""}
              />
            </Field>
            <TemplateFields values={values} errors={errors} />
            <button type="submit">{t.open ? "Save and lock" : "Save"}</button>{" "}
            <a class="button secondary" href="/console/triggers">
              Back
            </a>
          </PostForm>
        </>
      ),
    },
    status,
  );
}

triggerPages.get("/triggers/:id/edit", async (c) => {
  const t = triggerJson(await ownTrigger(c, c.req.param("id")));
  return renderEdit(c, t, formValuesOf(t), {});
});

triggerPages.post("/triggers/:id/edit", async (c) => {
  const t = triggerJson(await ownTrigger(c, c.req.param("id")));
  const values = await postedValues(c, ["trigger_name"]);
  const refuse = (errors: Errors) => renderEdit(c, t, values, errors, FORM_ERRORS);
  const triggerName = values.text.trigger_name ?? "";
  if (!triggerName) return refuse({ trigger_name: "Give the trigger URL a name." });
  if (triggerName.length > 100) return refuse({ trigger_name: "At most 100 characters." });
  // Fields the form does not show (set through the API: urgent, user_phone…) are kept.
  const shown = new Set(TEMPLATE_FIELDS.map(([name]) => name));
  const kept = Object.fromEntries(Object.entries(t.fields).filter(([field]) => !shown.has(field)));
  const template = { ...kept, ...templateOf(values.text) };
  if (!template.phone && !template.task) return refuse({ phone: "Set the phone number (or {{value1}}) and the task." });
  try {
    const userId = c.get("session").auth.userId;
    await editTrigger(deps(c.env), userId, t.id, { name: triggerName, template, openFields: values.open });
  } catch (err) {
    return refuse(formErrors(err, FORM_FIELDS));
  }
  return redirectWith(c, "/console/triggers", { notice: `The trigger URL “${triggerName}” was saved.` });
});
