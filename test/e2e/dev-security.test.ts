import { readdirSync, readFileSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DevServer, startDevServer } from "./dev-server";
import { linkedKey } from "./sandbox-account";

/**
 * What `npm run dev` does with what a client sends it: an oversized chunked upload is answered,
 * and the tokens of a sign-in are kept out of everything the local runtime records.
 */
let server: DevServer;
let stateDir: string;
beforeAll(async () => {
  server = await startDevServer(["--var", "POLLER_SWEEP_SECONDS:0"]);
  stateDir = server.stateDir;
});
afterAll(async () => {
  await server?.stop();
});

interface Answer {
  status: number;
  contentType: string;
  requestId: string | undefined;
  body: string;
}

/** POSTs `total` bytes as chunks of `chunk` bytes (Transfer-Encoding: chunked), stopping once an answer comes. */
function chunkedUpload(url: string, headers: Record<string, string>, total: number, chunk: number): Promise<Answer> {
  return new Promise((resolve) => {
    let answered = false;
    const req = request(url, { method: "POST", headers: { ...headers, "content-type": "application/json" } }, (res) => {
      answered = true;
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (body += d));
      res.on("end", () =>
        resolve({
          status: res.statusCode ?? 0,
          contentType: String(res.headers["content-type"] ?? ""),
          requestId: res.headers["x-request-id"] as string | undefined,
          body,
        }),
      );
      res.on("error", (err) => resolve({ status: 0, contentType: "", requestId: undefined, body: String(err) }));
    });
    // A connection closed under the upload, before any answer: the client sees no status at all.
    req.on("error", (err) => {
      if (!answered) resolve({ status: 0, contentType: "", requestId: undefined, body: `no answer: ${err.message}` });
    });
    const piece = Buffer.alloc(chunk, "x");
    let sent = 0;
    const pump = () => {
      while (!answered && sent < total) {
        sent += chunk;
        if (!req.write(piece)) return void req.once("drain", pump);
      }
      req.end();
    };
    pump();
  });
}

describe("npm run dev: a chunked upload over the body limit", () => {
  it("1 MB in 16 KB chunks to POST /v1/keys, 40 times: every answer is the 413 JSON with an X-Request-Id", async () => {
    const apiKey = await linkedKey(server.origin, "upload@example.com");
    const answers: Answer[] = [];
    for (let i = 0; i < 40; i++) {
      answers.push(
        await chunkedUpload(`${server.origin}/v1/keys`, { authorization: `Bearer ${apiKey}` }, 1024 * 1024, 16 * 1024),
      );
    }
    const wrong = answers.filter(
      (a) =>
        a.status !== 413 ||
        !a.contentType.startsWith("application/json") ||
        !a.requestId ||
        !a.body.includes('"payload_too_large"'),
    );
    expect(wrong.map((a) => `${a.status} ${a.contentType} ${a.body.slice(0, 80)}`)).toEqual([]);
    // The server is still well after the uploads.
    expect((await fetch(`${server.origin}/health`)).status).toBe(200);
  });
});

/** Every file under `dir`, recursively. */
const filesUnder = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)],
  );

describe("npm run dev: tokens stay out of what the local runtime records", () => {
  it("a browser sign-in (KallyAI's CLI flow puts the tokens in the query of the bridge's bare origin) leaves no token on disk, in a trace or in the output", async () => {
    const origin = server.origin;
    const login = await fetch(`${origin}/auth/login`, { redirect: "manual" });
    const cookie = String(login.headers.get("set-cookie")).split(";")[0]!;
    const signInPage = new URL(String(login.headers.get("location")), origin);
    const state = signInPage.searchParams.get("state");
    const form = new URLSearchParams({
      redirect_uri: String(signInPage.searchParams.get("redirect_uri")),
      state: String(state),
      email: "traces@example.com",
    });
    const signedIn = await fetch(`${origin}/sandbox/v1/auth/cli`, { method: "POST", body: form, redirect: "manual" });
    const callback = new URL(String(signedIn.headers.get("location")), origin);
    // KallyAI redirects to a bare loopback origin (issue 19); the bridge takes the tokens at "/".
    expect(callback.pathname).toBe("/");
    const secrets = ["access_token", "refresh_token"].map((name) => String(callback.searchParams.get(name)));
    expect(secrets.every((s) => s.length > 20)).toBe(true);
    const done = await fetch(callback, { redirect: "manual", headers: { cookie } });
    expect(done.status).toBe(303);
    // Give the runtime time to write whatever it records about those requests.
    await new Promise((r) => setTimeout(r, 2000));

    // Local observability is off: no trace store answers, and none was written.
    const query = await fetch(`${origin}/cdn-cgi/local/explorer/api/local/observability/query`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ sql: "SELECT message FROM logs" }),
    });
    const answer = await query.text();
    expect(query.status, answer).not.toBe(200);
    for (const secret of secrets) expect(answer).not.toContain(secret);
    const files = filesUnder(stateDir);
    expect(files.filter((f) => f.includes("observability"))).toEqual([]);
    // No file of the local state holds a token in the clear (the vault seals them; the sandbox keeps hashes).
    const holding = files.filter((f) => {
      const bytes = readFileSync(f);
      return secrets.some((s) => bytes.includes(s));
    });
    expect(holding).toEqual([]);
    for (const secret of secrets) expect(server.output()).not.toContain(secret);
  });
});
