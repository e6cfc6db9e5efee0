import { Hono } from "hono";
import { resolveSession } from "../../domain/console-sessions";
import { deps } from "../../domain/deps";
import { Snippet } from "../components";
import { Layout, render } from "../layout";
import { type ConsoleEnv, readSessionCookie } from "../session";

/** Step-by-step recipes for each tool, with this bridge's own URLs filled in (the README's, made concrete). */
export const recipePages = new Hono<ConsoleEnv>();

function Recipes({ origin, signedIn }: { origin: string; signedIn: boolean }) {
  const calls = `${origin}/v1/calls`;
  const keyNote = signedIn ? (
    <a href="/console/keys">Create a key for this tool</a>
  ) : (
    <>
      <a href="/auth/login?return_to=%2Fconsole%2Fkeys">Sign in</a> and create a key for this tool
    </>
  );
  return (
    <>
      <h1>Recipes</h1>
      <p>
        Each tool gets its own key ({keyNote}); send it as the header <code>X-API-Key</code>. Replace <code>&lt;key&gt;</code> below with it.
      </p>
      <nav aria-label="Recipes">
        <ul>
          <li>
            <a href="#shortcuts">iOS Shortcuts</a>
          </li>
          <li>
            <a href="#zapier">Zapier</a>
          </li>
          <li>
            <a href="#ifttt">IFTTT</a>
          </li>
          <li>
            <a href="#make">Make</a>
          </li>
          <li>
            <a href="#n8n">n8n</a>
          </li>
        </ul>
      </nav>

      <section aria-labelledby="shortcuts">
        <h2 id="shortcuts">iOS Shortcuts</h2>
        <ol class="steps">
          <li>
            <strong>Get Contents of URL</strong> with this URL, Method <strong>POST</strong>, Header <code>X-API-Key: &lt;key&gt;</code>, Request Body <strong>Form</strong>: <code>phone</code> (a contact's number, any format), <code>task</code> (Ask
            for Input), optionally <code>business</code>, <code>date</code>, <code>time</code>, <code>party_size</code>. Add a header <code>Idempotency-Key</code> holding a UUID, so a retried run places no second call.
            <Snippet id="r-shortcuts-calls" value={calls} label="the calls URL" />
          </li>
          <li>
            <strong>Get Dictionary Value</strong> <code>id</code> from the result.
          </li>
          <li>
            <strong>Repeat</strong> 10 times: <strong>Get Contents of URL</strong> (GET, same header) of the address below with the id in place of <code>ID</code>; <strong>If</strong> the text does not contain “still in progress”,{" "}
            <strong>Stop Repeat</strong>.
            <Snippet id="r-shortcuts-wait" value={`${calls}/ID?wait=25&format=text`} label="the wait URL" />
          </li>
          <li>
            <strong>Speak Text</strong> or <strong>Show Result</strong> with the answer: “Call to Italian Bistro succeeded: …”.
          </li>
        </ol>
        <p>
          Simpler: a <a href="/console/triggers">trigger URL</a> needs no key or header. “How many minutes are left?”: Get Contents of URL <code>{`${origin}/v1/usage?format=text`}</code> → Speak Text.
        </p>
      </section>

      <section aria-labelledby="zapier">
        <h2 id="zapier">Zapier</h2>
        <h3>Action: place a call</h3>
        <ol class="steps">
          <li>
            <strong>Webhooks by Zapier → POST</strong>, URL:
            <Snippet id="r-zapier-calls" value={calls} label="the calls URL" />
          </li>
          <li>
            Payload Type <strong>json</strong>, Data <code>phone</code>, <code>task</code>, <code>category</code>, …; Headers <code>X-API-Key: &lt;key&gt;</code> and <code>Idempotency-Key</code>: the trigger item's id.
          </li>
        </ol>
        <h3>Trigger: when a call ends</h3>
        <ol class="steps">
          <li>
            <strong>Webhooks by Zapier → Catch Hook</strong>; copy its URL.
          </li>
          <li>
            <a href="/console/webhooks">Add a webhook</a> with that URL and the event <code>call.completed</code>.
          </li>
          <li>
            Or without a webhook: <strong>Retrieve Poll</strong> on this URL with the key header:
            <Snippet id="r-zapier-events" value={`${origin}/v1/events?type=call.completed`} label="the events URL" />
          </li>
        </ol>
      </section>

      <section aria-labelledby="ifttt">
        <h2 id="ifttt">IFTTT</h2>
        <h3>Then: place a call</h3>
        <ol class="steps">
          <li>
            <a href="/console/triggers">Make a trigger URL</a> whose task holds <code>{"{{value1}}"}</code>.
          </li>
          <li>
            <strong>Webhooks → Make a web request</strong>: the trigger URL, Method POST, Content Type <code>application/json</code>, Body <code>{'{"value1": "{{TextField}}"}'}</code>.
          </li>
        </ol>
        <h3>If: when a call ends</h3>
        <p>
          <a href="/console/webhooks">Add a webhook</a> of kind IFTTT with your applet's event name and your Webhooks key: the bridge calls <code>https://maker.ifttt.com/trigger/&#123;event&#125;/with/key/&#123;key&#125;</code> with value1 = status, value2 =
          highlights, value3 = next steps.
        </p>
      </section>

      <section aria-labelledby="make">
        <h2 id="make">Make</h2>
        <ol class="steps">
          <li>
            Module <strong>HTTP → Make a request</strong>, URL below, Method POST, Header <code>X-API-Key</code>, Body type <strong>Raw</strong>, Content type JSON, Request content <code>{'{"phone": "{{1.phone}}", "task": "{{1.task}}"}'}</code>,
            Parse response yes.
            <Snippet id="r-make-calls" value={calls} label="the calls URL" />
          </li>
          <li>
            For outcomes: a <strong>Webhooks → Custom webhook</strong> module, and <a href="/console/webhooks">a webhook</a> with its URL.
          </li>
        </ol>
      </section>

      <section aria-labelledby="n8n">
        <h2 id="n8n">n8n</h2>
        <ol class="steps">
          <li>
            Node <strong>HTTP Request</strong>, Method POST, URL below, Authentication <em>Generic → Header Auth</em> (<code>X-API-Key</code>), Send Body JSON with <code>phone</code> and <code>task</code>.
            <Snippet id="r-n8n-calls" value={calls} label="the calls URL" />
          </li>
          <li>
            For outcomes: a <strong>Webhook</strong> node; <a href="/console/webhooks">add a webhook</a> with its production URL. Verify signatures with the <code>standardwebhooks</code> package in a Code node if you like.
          </li>
        </ol>
      </section>
      <p>
        Every endpoint, with a “try it” form: <a href="/docs">the API reference</a>.
      </p>
    </>
  );
}

recipePages.get("/recipes", async (c) => {
  const session = await resolveSession(deps(c.env), readSessionCookie(c));
  const origin = new URL(c.req.url).origin;
  const page = (
    <Layout title="Recipes" section="recipes" csrf={session?.csrf}>
      <Recipes origin={origin} signedIn={session !== null} />
    </Layout>
  );
  return c.html(await render(page), 200, { "cache-control": "no-store" });
});
