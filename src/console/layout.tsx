import type { Child } from "hono/jsx";
import type { Flash } from "../domain/console-sessions";
import { FlashMessages } from "./components";

type Section = "overview" | "calls" | "keys" | "apps" | "webhooks" | "triggers" | "recipes" | "docs" | "none";

const NAV: Array<[Section, string, string]> = [
  ["overview", "/console", "Overview"],
  ["calls", "/console/calls", "Calls"],
  ["keys", "/console/keys", "Keys"],
  ["apps", "/console/apps", "Connected apps"],
  ["webhooks", "/console/webhooks", "Webhooks"],
  ["triggers", "/console/triggers", "Trigger URLs"],
  ["recipes", "/console/recipes", "Recipes"],
  ["docs", "/docs", "API reference"],
];

export interface PageProps {
  title: string;
  section?: Section;
  /** Present when signed in: the navigation and the sign-out form show. */
  csrf?: string;
  flash?: Flash | null;
  /** A page that follows a running call reloads itself every few seconds when scripts are off. */
  refreshSeconds?: number;
  children?: Child;
}

/** The signed-in person's way around the console, and out of it. */
function ConsoleNav({ section, csrf }: { section: Section; csrf: string }) {
  return (
    <nav aria-label="Console">
      <ul>
        {NAV.map(([key, href, label]) => (
          <li>
            <a href={href} aria-current={key === section ? "page" : undefined}>
              {label}
            </a>
          </li>
        ))}
        <li>
          <form class="inline" method="post" action="/console/sign-out">
            <input type="hidden" name="_csrf" value={csrf} />
            <button class="link" type="submit">
              Sign out
            </button>
          </form>
        </li>
      </ul>
    </nav>
  );
}

/** What a visitor who is not signed in can open. */
function SiteNav({ section }: { section: Section }) {
  return (
    <nav aria-label="Site">
      <ul>
        <li>
          <a href="/docs" aria-current={section === "docs" ? "page" : undefined}>
            API reference
          </a>
        </li>
        <li>
          <a href="/console/recipes">Recipes</a>
        </li>
      </ul>
    </nav>
  );
}

export function Layout({ title, section = "none", csrf, flash, refreshSeconds, children }: PageProps) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="light dark" />
        <title>{`${title} — KallyAI Bridge`}</title>
        <link rel="stylesheet" href="/console/assets/app.css" />
        <script src="/console/assets/app.js" defer></script>
        {refreshSeconds ? (
          <noscript>
            <meta http-equiv="refresh" content={String(refreshSeconds)} />
          </noscript>
        ) : null}
      </head>
      <body>
        <a class="skip" href="#main">
          Skip to the content
        </a>
        <header class="top">
          <div class="bar">
            <a class="brand" href={csrf ? "/console" : "/"}>
              KallyAI Bridge
            </a>
            {csrf ? <ConsoleNav section={section} csrf={csrf} /> : <SiteNav section={section} />}
          </div>
        </header>
        <main id="main">
          <FlashMessages flash={flash} />
          {children}
        </main>
        <footer>
          KallyAI Bridge · <a href="/docs">API reference</a> · <a href="/openapi.json">OpenAPI document</a> ·{" "}
          <a href="/health">Health</a>
        </footer>
      </body>
    </html>
  );
}

/** A whole HTML document from a page element. */
export async function render(page: unknown): Promise<string> {
  const html = (page as { toString(): string | Promise<string> }).toString();
  return `<!doctype html>${await html}`;
}
