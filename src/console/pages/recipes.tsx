import { Hono } from "hono";
import { resolveSession } from "../../domain/console-sessions";
import { deps } from "../../domain/deps";
import {
  CONSOLE_PAGES,
  curlCommand,
  httpMessage,
  RECIPES,
  type Recipe,
  SECTION_NAMES,
  type SectionId,
} from "../../shared/recipes";
import { Snippet } from "../components";
import { Layout, render } from "../layout";
import { type ConsoleEnv, readSessionCookie } from "../session-middleware";

/** The recipes of docs/platforms.md (src/shared/recipes.ts, the one source), with this bridge's own URL filled in. */
export const recipePages = new Hono<ConsoleEnv>();

const SECTIONS: SectionId[] = ["shortcuts", "zapier", "ifttt", "make", "n8n", "trigger-urls", "webhooks"];

/** One piece of a step: **bold**, `code`, or plain text. */
function markup(part: string) {
  if (part.startsWith("**")) return <strong>{part.slice(2, -2)}</strong>;
  if (part.startsWith("`")) return <code>{part.slice(1, -1)}</code>;
  return part;
}

/** The recipes' steps are a little markdown: **bold** and `code`, nothing else. */
const inline = (text: string) =>
  text
    .split(/(\*\*[^*]+\*\*|`[^`]+`)/g)
    .filter(Boolean)
    .map(markup);

/** A recipe's step, and first the console's way of doing it where there is one (curl is then the second way). */
function Steps({ recipe, origin }: { recipe: Recipe; origin: string }) {
  const steps = <p>{inline(recipe.steps.replaceAll("<bridge>", origin))}</p>;
  if (!recipe.console) return steps;
  const page = CONSOLE_PAGES[recipe.console.page];
  return (
    <>
      {steps}
      <p>
        In the console: <a href={page.path}>{page.name}</a> → {inline(recipe.console.action)}
      </p>
      <p>Or with curl:</p>
    </>
  );
}

function Recipes({ origin, signedIn }: { origin: string; signedIn: boolean }) {
  const keyNote = signedIn ? (
    <a href="/console/keys">Create a key for each tool</a>
  ) : (
    <>
      <a href="/auth/login?return_to=%2Fconsole%2Fkeys">Sign in</a> and create a key for each tool
    </>
  );
  return (
    <>
      <h1>Recipes</h1>
      <p>
        What to click in each tool, and the exact request it then sends to this bridge. {keyNote}, and put it where a
        recipe says <code>&lt;key&gt;</code>. The repository's docs/platforms.md shows the same recipes.
      </p>
      <nav aria-label="Recipes">
        <ul>
          {SECTIONS.map((section) => (
            <li>
              <a href={`#${section}`}>{SECTION_NAMES[section]}</a>
            </li>
          ))}
        </ul>
      </nav>
      {SECTIONS.map((section) => (
        <section aria-labelledby={section}>
          <h2 id={section}>{SECTION_NAMES[section]}</h2>
          {RECIPES.filter((r) => r.section === section).map((recipe) => (
            <div>
              <h3>{recipe.title}</h3>
              <Steps recipe={recipe} origin={origin} />
              <Snippet
                id={`recipe-${recipe.id}`}
                value={recipe.client === "curl" ? curlCommand(recipe, origin) : httpMessage(recipe, origin)}
                label={`the request of “${recipe.title}”`}
              />
            </div>
          ))}
        </section>
      ))}
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
