import { escapeHtml, page } from "../shared/html";

/** The sandbox's stand-in for KallyAI's Google/Apple sign-in: an email is all it asks. */
export function signInPage(action: string, hidden: Record<string, string>, purpose: string): string {
  const fields = Object.entries(hidden)
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join("");
  return page(
    "Sign in — KallyAI sandbox",
    `<span class="badge">sandbox</span><h1>Sign in to KallyAI</h1>
<p>${escapeHtml(purpose)}</p>
<form method="post" action="${escapeHtml(action)}">${fields}
<label for="email">Email</label><input id="email" type="email" name="email" required autocomplete="email" placeholder="you@example.com">
<button type="submit">Continue</button></form>
<p class="note">Test mode: no password, no minutes spent. Any email works; <code>name+calls3@example.com</code> starts with a plan of 3 calls.</p>`,
  );
}

/** Test mode's answer to "no minutes left": a free top-up, by the sandbox account's email. */
export function topUpPage(result?: { email: string; ok: boolean }): string {
  const outcome = result
    ? result.ok
      ? `<p><strong>Done:</strong> ${escapeHtml(result.email)} has more sandbox minutes and calls.</p>`
      : `<p><strong>No sandbox account</strong> uses ${escapeHtml(result.email)}; sign in with it first.</p>`
    : "";
  return page(
    "Top up — KallyAI sandbox",
    `<span class="badge">sandbox</span><h1>Top up your sandbox plan</h1>${outcome}
<p>In test mode minutes are free. Each top-up adds the default plan again.</p>
<form method="post" action="top-up"><label for="email">Email of your sandbox account</label><input id="email" type="email" name="email" required placeholder="you@example.com">
<button type="submit">Top up</button></form>
<p class="note">From a terminal: <code>curl -X POST &lt;this URL&gt; -H 'content-type: application/json' -d '{"email": "you@example.com"}'</code></p>`,
  );
}
