import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { d1Rows, until } from "./dev-server";
import { linkedKey } from "./sandbox-account";

/** One webhook delivery as a receiver on loopback got it. */
export interface Delivery {
  webhookId: string | undefined;
  type: string;
  callId: string;
  status: string;
}

/** A webhook receiver on http://127.0.0.1 that answers 200 and keeps what it got. */
export async function startReceiver() {
  const received: Delivery[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => {
      body += d;
    });
    req.on("end", () => {
      const event = JSON.parse(body) as { type: string; data: { id: string; status: string } };
      received.push({
        webhookId: req.headers["webhook-id"] as string | undefined,
        type: event.type,
        callId: event.data.id,
        status: event.data.status,
      });
      res.writeHead(200).end("ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    of: (callId: string) => received.filter((d) => d.callId === callId),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Signs a new sandbox user in (its CLI form), links it to the bridge and subscribes `hookUrl`: the API key. */
export async function linkAndSubscribe(origin: string, hookUrl: string, email: string): Promise<string> {
  const apiKey = await linkedKey(origin, email);
  const subscribed = await fetch(`${origin}/v1/webhooks`, {
    method: "POST",
    headers: { "x-api-key": apiKey, "content-type": "application/json" },
    body: JSON.stringify({ url: hookUrl, events: ["call.completed", "call.failed"] }),
  });
  if (subscribed.status !== 201) throw new Error(`subscribing answered ${subscribed.status}`);
  return apiKey;
}

export interface CallAnswer {
  id: string;
  status: string;
  finished: boolean;
  highlights: string | null;
}

/** Follows a call with ?wait=25 until it has ended (or `seconds` pass): its last answer. */
export async function waitForEnd(origin: string, apiKey: string, id: string, seconds = 120): Promise<CallAnswer> {
  return until(
    `call ${id} to end`,
    async () => {
      const res = await fetch(`${origin}/v1/calls/${id}?wait=25`, { headers: { "x-api-key": apiKey } });
      const call = (await res.json()) as CallAnswer;
      return call.finished ? call : undefined;
    },
    seconds,
  );
}

/** What the sandbox (KallyAI) saw: its POST /v1/calls requests, and the calls it placed under `upstreamKey`. */
export async function sandboxSaw(stateDir: string, upstreamKey: string) {
  const [posts] = await d1Rows<{ n: number }>(
    stateDir,
    "SELECT count(*) AS n FROM sandbox_requests WHERE method = 'POST' AND path = '/v1/calls'",
  );
  const [placed] = await d1Rows<{ n: number }>(
    stateDir,
    `SELECT count(*) AS n FROM sandbox_calls WHERE idempotency_key = '${upstreamKey.replace(/'/g, "''")}'`,
  );
  return { posts: posts?.n ?? -1, placements: placed?.n ?? -1 };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
