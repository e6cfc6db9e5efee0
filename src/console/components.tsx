import type { Child } from "hono/jsx";
import type { Flash } from "../domain/console-sessions";
import { type CallStatus, statusLabel } from "../shared/call-status";
import type { DeliveryRow, WebhookRow } from "../storage/webhooks";

/** A form that changes something: POST, with the session's CSRF token. */
export function PostForm({
  action,
  csrf,
  children,
  class: cls,
  label,
}: {
  action: string;
  csrf: string;
  children?: Child;
  class?: string;
  label?: string;
}) {
  return (
    <form method="post" action={action} class={cls} aria-label={label}>
      <input type="hidden" name="_csrf" value={csrf} />
      {children}
    </form>
  );
}

/** The two buttons of a confirmation page: do it (a POST), or go back. */
export function Confirm({
  action,
  csrf,
  confirm,
  back,
  keep = "Keep it",
}: {
  action: string;
  csrf: string;
  confirm: string;
  back: string;
  keep?: string;
}) {
  return (
    <PostForm action={action} csrf={csrf}>
      <button type="submit" class="danger">
        {confirm}
      </button>
      <a class="button secondary" href={back}>
        {keep}
      </a>
    </PostForm>
  );
}

/** A value shown once, with a copy button (the button needs the small script; the text can be selected by hand). */
function CopyBox({
  id,
  label,
  value,
  note,
  examples,
}: {
  id: string;
  label: string;
  value: string;
  note?: string;
  examples?: Array<{ label: string; value: string }>;
}) {
  return (
    <section class="secret" aria-labelledby={`${id}-label`}>
      <h2 id={`${id}-label`}>{label}</h2>
      <p>
        <strong>Shown only this once.</strong> Copy it now: the bridge keeps no copy it could show again.
      </p>
      <pre>
        <code id={id}>{value}</code>
      </pre>
      <button type="button" data-copy={id}>
        Copy
      </button>
      <span id={`${id}-status`} class="small muted" role="status"></span>
      {note ? <p class="small">{note}</p> : null}
      {examples?.map((example, i) => (
        <div>
          <h3>{example.label}</h3>
          <Snippet id={`${id}-example-${i}`} value={example.value} label={example.label} />
        </div>
      ))}
    </section>
  );
}

/** A copyable snippet that is not secret (example requests, the bridge's URL). */
export function Snippet({ id, value, label }: { id: string; value: string; label?: string }) {
  return (
    <div>
      <pre>
        <code id={id}>{value}</code>
      </pre>
      <button type="button" class="secondary" data-copy={id} aria-label={label ? `Copy ${label}` : "Copy"}>
        Copy
      </button>
      <span id={`${id}-status`} class="small muted" role="status"></span>
    </div>
  );
}

export function FlashMessages({ flash }: { flash?: Flash | null }) {
  if (!flash) return null;
  return (
    <div>
      {flash.notice ? (
        <p class="notice" role="status">
          {flash.notice}
        </p>
      ) : null}
      {flash.error ? (
        <p class="alert" role="alert">
          {flash.error}
        </p>
      ) : null}
      {flash.reveal ? <CopyBox id="revealed" {...flash.reveal} /> : null}
    </div>
  );
}

/**
 * A time: UTC on the server, turned into the person's own timezone by the script; the
 * UTC text stays as the element's title.
 */
export function Time({ at }: { at: string | number | null | undefined }) {
  if (at === null || at === undefined) return <span class="muted">—</span>;
  const date = new Date(at);
  if (Number.isNaN(date.getTime())) return <span>{String(at)}</span>;
  const iso = date.toISOString();
  return (
    <time datetime={iso} data-local="">
      {`${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`}
    </time>
  );
}

export function Field({
  label,
  name,
  error,
  hint,
  children,
}: {
  label: string;
  name: string;
  error?: string;
  hint?: string;
  children: Child;
}) {
  return (
    <div>
      <label for={`f-${name}`}>{label}</label>
      {hint ? (
        <span class="hint" id={`f-${name}-hint`}>
          {hint}
        </span>
      ) : null}
      {children}
      {error ? (
        <p class="field-error" id={`f-${name}-error`}>
          {error}
        </p>
      ) : null}
    </div>
  );
}

/** What a refused form says about itself rather than one of its fields. */
export function FormAlert({ error }: { error?: string }) {
  if (!error) return null;
  return (
    <p class="alert" role="alert">
      {error}
    </p>
  );
}

/** A fieldset of checkboxes sharing one name, each value explained, with the error of the whole set. */
export function Checkboxes({
  name,
  legend,
  options,
  help,
  checked,
  error,
}: {
  name: string;
  legend: string;
  options: readonly string[];
  help: Partial<Record<string, string>>;
  checked: readonly string[];
  error?: string;
}) {
  return (
    <fieldset aria-describedby={error ? `f-${name}-error` : undefined}>
      <legend>{legend}</legend>
      {options.map((value) => (
        <label class="check">
          <input type="checkbox" name={name} value={value} checked={checked.includes(value)} />
          <span>
            <code>{value}</code> — {help[value]}
          </span>
        </label>
      ))}
      {error ? (
        <p class="field-error" id={`f-${name}-error`}>
          {error}
        </p>
      ) : null}
    </fieldset>
  );
}

/** The attributes an input needs to be tied to its label, hint and error. */
export function inputAttrs(name: string, opts: { error?: string; hint?: boolean } = {}) {
  const describedBy = [opts.hint ? `f-${name}-hint` : null, opts.error ? `f-${name}-error` : null]
    .filter(Boolean)
    .join(" ");
  return {
    id: `f-${name}`,
    name,
    "aria-invalid": opts.error ? "true" : undefined,
    "aria-describedby": describedBy || undefined,
  };
}

/** Plain GET links between the pages of a list, newest first; `what` names the rows (“calls”). */
export function Pager({ what, newest, older }: { what: string; newest: string | null; older: string | null }) {
  return (
    <nav class="pager" aria-label="Pages">
      {newest ? <a href={newest}>{`Newest ${what}`}</a> : null}
      {older ? <a href={older}>{`Older ${what}`}</a> : null}
    </nav>
  );
}

export function Empty({ children }: { children: Child }) {
  return <div class="empty">{children}</div>;
}

/** The colour of each state a badge shows: a call's status, a webhook's and a delivery's state. */
const STATUS_CLASS: Record<CallStatus | WebhookRow["state"] | DeliveryRow["state"], "ok" | "bad" | "wait" | "plain"> = {
  success: "ok",
  succeeded: "ok",
  active: "ok",
  failed: "bad",
  disabled: "bad",
  busy: "bad",
  no_answer: "bad",
  terminated: "bad",
  cancelled: "plain",
  expired: "plain",
  voicemail: "wait",
  pending: "wait",
  queued: "wait",
  in_progress: "wait",
};

export function Badge({ status }: { status: string }) {
  return (
    <span class={`badge ${STATUS_CLASS[status as keyof typeof STATUS_CLASS] ?? "plain"}`}>{statusLabel(status)}</span>
  );
}
