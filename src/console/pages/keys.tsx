import { Hono } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { z } from "zod";
import { createKey, DEFAULT_CALLS_PER_HOUR, keyJson } from "../../domain/api-keys";
import { deps } from "../../domain/deps";
import { SCOPES, type Scope } from "../../domain/key-signing";
import { notFound } from "../../errors";
import { Checkboxes, Confirm, Empty, Field, inputAttrs, PostForm, Time } from "../components";
import { type Ctx, consolePage, FORM_ERRORS, formErrors, formOf, list, redirectWith, text } from "../respond";
import type { ConsoleEnv } from "../session-middleware";

export const keyPages = new Hono<ConsoleEnv>();

/** What each scope lets a key, or a connected app (the consent page), do. */
export const SCOPE_HELP: Record<string, string> = {
  "calls:write": "place calls and make trigger URLs",
  "calls:read": "read calls, transcripts and recordings",
  "account:read": "read usage, plan and billing",
  "account:manage": "create and revoke keys, unlink the account",
  webhooks: "manage webhooks and read the event feed",
};

const EXPIRY: Array<[string, string, number | undefined]> = [
  ["never", "Never", undefined],
  ["1d", "In 1 day", 86_400],
  ["7d", "In 7 days", 7 * 86_400],
  ["30d", "In 30 days", 30 * 86_400],
  ["90d", "In 90 days", 90 * 86_400],
  ["365d", "In 1 year", 365 * 86_400],
];

const KeyFormSchema = z.object({
  name: z
    .string()
    .trim()
    .min(1, "Give the key a name, e.g. the tool that will use it.")
    .max(100, "At most 100 characters."),
  scopes: z.array(z.enum(SCOPES, { error: "Pick scopes from the list." })).min(1, "Pick at least one scope."),
  calls_per_hour: z.coerce
    .number({ error: "A whole number from 0 to 1000." })
    .int("A whole number from 0 to 1000.")
    .min(0, "A whole number from 0 to 1000.")
    .max(1000, "A whole number from 0 to 1000."),
  expires: z.enum(EXPIRY.map(([v]) => v) as [string, ...string[]], { error: "Pick when the key expires." }),
});
type KeyFormValues = { name: string; scopes: string[]; calls_per_hour: string; expires: string };
const KEY_FIELDS = ["name", "scopes", "calls_per_hour", "expires"] as const;
type Errors = Partial<Record<keyof KeyFormValues | "form", string>>;

/** Scopes a new key gets ticked by default: the console's own, minus managing the account. */
const defaultScopes = (own: Scope[]) => own.filter((s) => s !== ("account:manage" as Scope));

/** How much the key may do: calls per hour, and until when. */
function LimitFields({ values, errors }: { values: KeyFormValues; errors: Errors }) {
  return (
    <div class="grid two">
      <Field
        label="Calls per hour"
        name="calls_per_hour"
        error={errors.calls_per_hour}
        hint="A runaway guard: calls this key may place in an hour."
      >
        <input
          {...inputAttrs("calls_per_hour", { error: errors.calls_per_hour, hint: true })}
          type="number"
          inputmode="numeric"
          min="0"
          max="1000"
          step="1"
          required
          value={values.calls_per_hour}
        />
      </Field>
      <Field label="Expires" name="expires" error={errors.expires}>
        <select {...inputAttrs("expires", { error: errors.expires })}>
          {EXPIRY.map(([value, label]) => (
            <option value={value} selected={values.expires === value}>
              {label}
            </option>
          ))}
        </select>
      </Field>
    </div>
  );
}

function KeyForm({
  csrf,
  ownScopes,
  values,
  errors,
}: {
  csrf: string;
  ownScopes: Scope[];
  values: KeyFormValues;
  errors: Errors;
}) {
  return (
    <PostForm action="/console/keys" csrf={csrf}>
      <Field label="Name" name="name" error={errors.name} hint="Which tool will use it, e.g. “Zapier — bookings”.">
        <input
          {...inputAttrs("name", { error: errors.name, hint: true })}
          type="text"
          required
          maxlength={100}
          value={values.name}
          autocomplete="off"
        />
      </Field>
      <Checkboxes
        name="scopes"
        legend="Scopes"
        options={SCOPES.filter((s) => ownScopes.includes(s))}
        help={SCOPE_HELP}
        checked={values.scopes}
        error={errors.scopes}
      />
      <LimitFields values={values} errors={errors} />
      <button type="submit">Create key</button>
    </PostForm>
  );
}

function KeyRows({ keys, consoleKeyId }: { keys: ReturnType<typeof keyJson>[]; consoleKeyId: string }) {
  return (
    <ul class="rows" aria-label="Active keys">
      {keys.map((k) => (
        <li>
          <div class="row-head">
            <span class="title">{k.name}</span>
            <code>{k.id}</code>
            {k.id === consoleKeyId ? <span class="badge plain">this console signed in with it</span> : null}
          </div>
          <dl class="facts small">
            <dt>Scopes</dt>
            <dd>{k.scopes.join(", ")}</dd>
            <dt>Calls per hour</dt>
            <dd>{k.calls_per_hour}</dd>
            <dt>Created</dt>
            <dd>
              <Time at={k.created_at} />
            </dd>
            <dt>Expires</dt>
            <dd>{k.expires_at ? <Time at={k.expires_at} /> : "never"}</dd>
            <dt>Last used</dt>
            <dd>{k.last_used_at ? <Time at={k.last_used_at} /> : "never"}</dd>
          </dl>
          <a class="button secondary" href={`/console/keys/${encodeURIComponent(k.id)}/revoke`}>
            Revoke<span class="vh">{` ${k.name}`}</span>…
          </a>
        </li>
      ))}
    </ul>
  );
}

async function renderKeys(c: Ctx, values: KeyFormValues, errors: Errors, status: ContentfulStatusCode = 200) {
  const { auth, csrf } = c.get("session");
  const keys = (await deps(c.env).keys.listWorking(auth.userId, Date.now())).results.map(keyJson);
  return consolePage(
    c,
    {
      title: "API keys",
      section: "keys",
      children: (
        <>
          <h1>API keys</h1>
          <p>Give each tool (Zapier, IFTTT, a Shortcut, the CLI) its own key: revoking one stops only that tool.</p>
          <section class="card" aria-labelledby="new-key">
            <h2 id="new-key">Create a key</h2>
            <KeyForm csrf={csrf} ownScopes={auth.scopes} values={values} errors={errors} />
          </section>
          <h2>Active keys</h2>
          {keys.length === 0 ? (
            <Empty>
              <p>No active keys. Create one above for each tool you connect.</p>
            </Empty>
          ) : (
            <KeyRows keys={keys} consoleKeyId={auth.key.id} />
          )}
        </>
      ),
    },
    status,
  );
}

keyPages.get("/keys", (c) =>
  renderKeys(
    c,
    {
      name: "",
      scopes: defaultScopes(c.get("session").auth.scopes),
      calls_per_hour: String(DEFAULT_CALLS_PER_HOUR),
      expires: "never",
    },
    {},
  ),
);

keyPages.post("/keys", async (c) => {
  const form = await formOf(c);
  const values: KeyFormValues = {
    name: text(form.name),
    scopes: list(form.scopes),
    calls_per_hour: text(form.calls_per_hour),
    expires: text(form.expires) || "never",
  };
  const parsed = KeyFormSchema.safeParse(values);
  if (!parsed.success) return renderKeys(c, values, formErrors(parsed.error, KEY_FIELDS), FORM_ERRORS);
  const { auth } = c.get("session");
  try {
    const key = await createKey(deps(c.env), auth, {
      name: parsed.data.name,
      scopes: parsed.data.scopes,
      callsPerHour: parsed.data.calls_per_hour,
      expiresInSeconds: EXPIRY.find(([v]) => v === parsed.data.expires)?.[2],
    });
    return redirectWith(c, "/console/keys", {
      reveal: {
        label: `Your new key “${key.name}”`,
        value: key.api_key,
        note: "Send it as Authorization: Bearer <key> (or X-API-Key: <key>).",
      },
    });
  } catch (err) {
    // The form has no alert of its own: a refusal of the key as a whole shows by its scopes.
    return renderKeys(c, values, formErrors(err, KEY_FIELDS, "scopes"), FORM_ERRORS);
  }
});

async function ownActiveKey(c: Ctx, id: string) {
  const key = await deps(c.env).keys.get(id, c.get("session").auth.userId);
  if (!key || key.revoked_at !== null) throw notFound(`API key ${id}`, "It may have been revoked already.");
  return key;
}

keyPages.get("/keys/:id/revoke", async (c) => {
  const key = await ownActiveKey(c, c.req.param("id"));
  const { csrf, auth } = c.get("session");
  return consolePage(c, {
    title: `Revoke ${key.name}`,
    section: "keys",
    children: (
      <>
        <h1>{`Revoke “${key.name}”?`}</h1>
        <p>
          The key <code>{key.id}</code> stops working at once: every tool using it gets <code>401 api_key_revoked</code>
          , and trigger URLs made with it stop too. This cannot be undone.
        </p>
        {key.id === auth.key.id ? (
          <p class="alert">This console signed in with this key: revoking it also signs you out.</p>
        ) : null}
        <Confirm
          action={`/console/keys/${encodeURIComponent(key.id)}/revoke`}
          csrf={csrf}
          confirm="Revoke the key"
          back="/console/keys"
        />
      </>
    ),
  });
});

keyPages.post("/keys/:id/revoke", async (c) => {
  const id = c.req.param("id");
  const { auth } = c.get("session");
  if (!(await deps(c.env).keys.revoke(id, auth.userId)))
    throw notFound(`API key ${id}`, "It may have been revoked already.");
  if (id === auth.key.id) return c.redirect("/", 303);
  return redirectWith(c, "/console/keys", { notice: `The key ${id} was revoked.` });
});
