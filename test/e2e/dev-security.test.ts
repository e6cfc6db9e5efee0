import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DevServer, startDevServer } from "./dev-server";

/**
 * What `npm run dev` does with what a client sends it: an oversized chunked upload is answered.
 */
let server: DevServer;
beforeAll(async () => {
  server = await startDevServer(["--var", "POLLER_SWEEP_SECONDS:0"]);
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

async function linkedKey(origin: string): Promise<string> {
  const signIn = await fetch(`${origin}/sandbox/v1/auth/cli`, {
    method: "POST",
    body: new URLSearchParams({
      redirect_uri: "http://127.0.0.1:8740/callback",
      state: "s",
      email: "upload@example.com",
    }),
    redirect: "manual",
  });
  const refreshToken = new URL(String(signIn.headers.get("location"))).searchParams.get("refresh_token");
  const res = await fetch(`${origin}/v1/link`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ refresh_token: refreshToken }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { api_key: string }).api_key;
}

describe("npm run dev: a chunked upload over the body limit", () => {
  it("1 MB in 16 KB chunks to POST /v1/keys, 40 times: every answer is the 413 JSON with an X-Request-Id", async () => {
    const apiKey = await linkedKey(server.origin);
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
