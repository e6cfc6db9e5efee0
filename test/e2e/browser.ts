import { mkdirSync, rmSync } from "node:fs";
import { createServer, type IncomingHttpHeaders } from "node:http";
import { join } from "node:path";
import AxeBuilder from "@axe-core/playwright";
import chromium from "@sparticuz/chromium";
import { type Browser, type BrowserContext, type Page, chromium as playwright } from "playwright-core";
import { expect } from "vitest";

/**
 * A real Chromium for the console's browser tests: the binary ships inside @sparticuz/chromium
 * (no download, no system package), driven by playwright-core. Flags that would weaken the
 * page's security model (CSP, same-origin) are left out, so the tests see what a person's browser does.
 */
export async function launchBrowser(): Promise<Browser> {
  const weakening = new Set(["--disable-web-security", "--allow-running-insecure-content"]);
  return playwright.launch({
    executablePath: await chromium.executablePath(),
    args: chromium.args.filter((a) => !weakening.has(a)),
    headless: true,
  });
}

export const SCREENSHOTS = join(process.cwd(), "screenshots");

/** Every console page goes through this: no serious accessibility problem, no console error, no sideways scroll at 390 px; screenshots at 1280 and 390 px. */
export class PageChecker {
  readonly problems: string[] = [];
  readonly offline: string[] = [];
  readonly checked: string[] = [];

  constructor(
    readonly context: BrowserContext,
    readonly page: Page,
    private readonly origin: string,
  ) {
    // A fresh directory per run, so no FAILED-*.png of an earlier run is mistaken for this one's.
    // One checker per run: console.test.ts makes it once, in beforeAll, and no other file uses it.
    rmSync(SCREENSHOTS, { recursive: true, force: true });
    mkdirSync(SCREENSHOTS, { recursive: true });
    page.on("console", (msg) => {
      if (msg.type() === "error") this.problems.push(`console error on ${page.url()}: ${msg.text()}`);
    });
    page.on("pageerror", (err) => this.problems.push(`script error on ${page.url()}: ${err.message}`));
  }

  /** Refuses every request that leaves the bridge: the pages must work with no network. */
  async offlineOnly() {
    await this.context.route("**/*", (route) => {
      const url = new URL(route.request().url());
      if (url.origin === this.origin || url.protocol === "data:") return route.continue();
      this.offline.push(route.request().url());
      return route.abort();
    });
  }

  /**
   * axe on the page as it is now. A page that navigates while axe runs (a call's page reloads
   * itself when the call moves on, a link clicked just before) is checked again where it landed.
   */
  private async analyze() {
    for (let attempt = 1; ; attempt++) {
      await this.page.waitForLoadState("load");
      try {
        return await new AxeBuilder({ page: this.page }).analyze();
      } catch (err) {
        if (attempt >= 3 || !/Execution context was destroyed/.test(String(err))) throw err;
      }
    }
  }

  async check(name: string) {
    const page = this.page;
    const axe = await this.analyze();
    const serious = axe.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
    expect(
      serious.map(
        (v) =>
          `${name}: ${v.id} (${v.impact}) ${v.help} — ${v.nodes
            .map((n) => n.target.join(" "))
            .slice(0, 3)
            .join(", ")}`,
      ),
    ).toEqual([]);
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.screenshot({ path: join(SCREENSHOTS, `${name}-1280.png`), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow, `${name} scrolls sideways at 390 px by ${overflow} px`).toBeLessThanOrEqual(0);
    await page.screenshot({ path: join(SCREENSHOTS, `${name}-390.png`), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 900 });
    const problems = this.problems.splice(0);
    expect(problems).toEqual([]);
    this.checked.push(name);
  }
}

export interface Delivery {
  headers: IncomingHttpHeaders;
  body: string;
  status: number;
}

/** A webhook receiver on loopback in the test process; `answer(n, headers)` picks each status code. */
export async function webhookReceiver(answer: (n: number, headers: IncomingHttpHeaders) => number) {
  const received: Delivery[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      const status = answer(received.length + 1, req.headers);
      received.push({ headers: req.headers, body, status });
      res.writeHead(status, { "content-type": "text/plain" }).end(status < 300 ? "ok" : "not now");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/hooks/kallyai`,
    received,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** Polls `probe` until it holds, reloading the page between tries (for what the cron does in the background). */
export async function eventually(page: Page, probe: () => Promise<boolean>, what: string, seconds = 90) {
  const deadline = Date.now() + seconds * 1000;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await page.waitForTimeout(1000);
    await page.reload();
  }
}
