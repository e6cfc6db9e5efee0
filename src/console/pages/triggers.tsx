import { Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { deps } from "../../domain/deps";
import type { Scope } from "../../domain/key-signing";
import { createTrigger, triggerJson } from "../../domain/triggers";
import { ApiError, notFound } from "../../errors";
import { CATEGORIES, LANGUAGE_NAMES, LANGUAGES } from "../../shared/call-input";
import { Confirm, Empty, Field, FormAlert, inputAttrs, PostForm, Time } from "../components";
import { placeholdersOf, triggerExamples } from "../examples";
import { type Ctx, consolePage, FORM_ERRORS, formErrors, formOf, redirectWith, text } from "../respond";
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

/** Fields with a fixed set of values: the same drop-downs as the call form, with its defaults. */
const CHOICES: Record<string, { options: Array<[string, string]>; initial: string }> = {
  category: { options: CATEGORIES.map((c) => [c, c]), initial: "general" },
  language: { options: LANGUAGES.map((l) => [l, LANGUAGE_NAMES[l]]), initial: "en" },
};

/** Every field of the form: its own two, then the template's. */
const FORM_FIELDS = ["trigger_name", "key_id", ...TEMPLATE_FIELDS.map(([name]) => name)];

type Values = Record<string, string>;
type Errors = Partial<Record<string, string>>;
type TriggerView = ReturnType<typeof triggerJson>;
type KeyRow = Awaited<ReturnType<typeof callKeys>>[number];

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
            <dt>Last hit</dt>
            <dd>{t.last_used_at ? <Time at={t.last_used_at} /> : "never"}</dd>
          </dl>
          <a class="button secondary" href={`/console/triggers/${encodeURIComponent(t.id)}/revoke`}>
            Revoke<span class="vh">{` ${t.name}`}</span>…
          </a>
        </li>
      ))}
    </ul>
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
  values: Values;
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
          value={values.trigger_name ?? ""}
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
            <option value={k.id} selected={(values.key_id ?? defaultKeyId) === k.id}>
              {`${k.name} (${k.id})`}
            </option>
          ))}
        </select>
      </Field>
      <div class="grid two">
        {TEMPLATE_FIELDS.map(([name, label, hint]) => (
          <Field label={label} name={name} error={errors[name]} hint={hint}>
            {CHOICES[name] ? (
              <select {...inputAttrs(name, { error: errors[name], hint: Boolean(hint) })}>
                {CHOICES[name].options.map(([value, text]) => (
                  <option value={value} selected={(values[name] || CHOICES[name]?.initial) === value}>
                    {text}
                  </option>
                ))}
              </select>
            ) : (
              <input
                {...inputAttrs(name, { error: errors[name], hint: Boolean(hint) })}
                type="text"
                autocomplete="off"
                value={values[name] ?? ""}
              />
            )}
          </Field>
        ))}
      </div>
      <button type="submit">Make the trigger URL</button>
    </PostForm>
  );
}

async function renderTriggers(c: Ctx, values: Values, errors: Errors, status: ContentfulStatusCode = 200) {
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

triggerPages.get("/triggers", (c) => renderTriggers(c, {}, {}));

triggerPages.post("/triggers", async (c) => {
  const d = deps(c.env);
  const { auth } = c.get("session");
  const form = await formOf(c);
  const triggerName = text(form.trigger_name);
  const values: Values = { trigger_name: triggerName, key_id: text(form.key_id) };
  for (const [field] of TEMPLATE_FIELDS) values[field] = text(form[field]);
  if (!triggerName) return renderTriggers(c, values, { trigger_name: "Give the trigger URL a name." }, FORM_ERRORS);
  if (triggerName.length > 100)
    return renderTriggers(c, values, { trigger_name: "At most 100 characters." }, FORM_ERRORS);
  const key = (await callKeys(c)).find((k) => k.id === (values.key_id || auth.key.id));
  if (!key) return renderTriggers(c, values, { key_id: "Pick an active key that may place calls." }, FORM_ERRORS);
  const template: Record<string, string | string[]> = {};
  for (const [field] of TEMPLATE_FIELDS) {
    const value = values[field];
    if (value) template[field] = field === "instructions" ? value.split(/\s*;\s*|\n/).filter(Boolean) : value;
  }
  if (!template.phone && !template.task)
    return renderTriggers(c, values, { phone: "Set the phone number (or {{value1}}) and the task." }, FORM_ERRORS);
  try {
    const origin = new URL(c.req.url).origin;
    const created = await createTrigger(
      d,
      { userId: auth.userId, key, scopes: key.scopes.split(" ") as Scope[] },
      triggerName,
      template,
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
    return renderTriggers(c, values, formErrors(err, FORM_FIELDS), FORM_ERRORS);
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
