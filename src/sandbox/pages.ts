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
