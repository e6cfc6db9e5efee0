import type { z } from "zod";
import type { Config } from "../env";
import { upstreamFailure, upstreamInvalid, upstreamTimeout, upstreamUnreachable } from "./errors";
import { assertCallId, upstreamIdempotencyKey } from "./safe-values";
import {
  TokenSet,
  UpstreamBillingPortal,
  UpstreamCall,
  UpstreamCallList,
  UpstreamRecording,
  UpstreamStatistics,
  UpstreamSubscription,
  UpstreamTranscript,
} from "./schemas";

export interface ClientOptions {
  baseUrl: string;
  timeoutMs: number;
  /** Attempts for a request that is safe to repeat (GET, or POST with an idempotency key). */
  maxAttempts?: number;
  /** Longest Retry-After the client waits for itself; longer ones go back to the caller. */
  maxRetryWaitMs?: number;
  fetch?: typeof fetch;
}

interface RequestSpec {
  method: "GET" | "POST";
  path: string;
  token?: string;
  json?: unknown;
  form?: Record<string, string>;
  idempotencyKey?: string;
  query?: Record<string, string | number | undefined>;
}

class Retryable extends Error {
  constructor(
    readonly failure: Error,
    readonly waitMs: number | undefined,
  ) {
    super("retryable");
  }
}

/**
 * KallyAI's HTTP API. The same code talks to api.kallyai.com and to the sandbox; only the base
 * URL differs. Every request has a timeout; only requests that are safe to repeat are retried.
 */
export class KallyAIClient {
  private readonly opts: Required<Omit<ClientOptions, "fetch">> & { fetch: typeof fetch };

  constructor(opts: ClientOptions) {
    // Defaults apply to options left out *or* passed as undefined (spreading `{maxAttempts: undefined}`
    // over the defaults would retry forever and call an undefined fetch).
    this.opts = {
      baseUrl: opts.baseUrl.replace(/\/+$/, ""),
      timeoutMs: opts.timeoutMs,
      maxAttempts: Math.max(1, opts.maxAttempts ?? 3),
      maxRetryWaitMs: opts.maxRetryWaitMs ?? 2_000,
      fetch: opts.fetch ?? ((...a) => fetch(...a)),
    };
  }

  static fromConfig(cfg: Config, fetch?: typeof globalThis.fetch): KallyAIClient {
    return new KallyAIClient({ baseUrl: cfg.upstream.baseUrl, timeoutMs: cfg.upstream.timeoutMs, fetch });
  }

  url(path: string, query?: Record<string, string>): string {
    const qs = query ? `?${new URLSearchParams(query)}` : "";
    return `${this.opts.baseUrl}${path}${qs}`;
  }

  refresh(refreshToken: string) {
    return this.send({ method: "POST", path: "/v1/auth/refresh", json: { refresh_token: refreshToken } }, TokenSet);
  }
  exchangeCode(form: { code: string; redirect_uri: string; client_id: string; client_secret: string }) {
    return this.send(
      { method: "POST", path: "/v1/auth/gpt/token", form: { grant_type: "authorization_code", ...form } },
      TokenSet,
    );
  }
  placeCall(token: string, body: { submission: Record<string, unknown>; timezone: string }, idempotencyKey: string) {
    return this.send({ method: "POST", path: "/v1/calls", token, json: body, idempotencyKey }, UpstreamCall);
  }
  listCalls(token: string, page: { limit: number; offset: number }) {
    return this.send({ method: "GET", path: "/v1/calls", token, query: page }, UpstreamCallList);
  }
  getCall(token: string, id: string) {
    return this.send({ method: "GET", path: `/v1/calls/${encodeURIComponent(assertCallId(id))}`, token }, UpstreamCall);
  }
  transcript(token: string, id: string) {
    return this.send(
      { method: "GET", path: `/v1/calls/${encodeURIComponent(assertCallId(id))}/transcript`, token },
      UpstreamTranscript,
    );
  }
  recording(token: string, id: string) {
    return this.send(
      { method: "GET", path: `/v1/calls/${encodeURIComponent(assertCallId(id))}/recording`, token },
      UpstreamRecording,
    );
  }
  cancelCall(token: string, id: string) {
    // Cancelling twice is harmless, so the call's id makes the request safe to repeat.
    return this.send(
      {
        method: "POST",
        path: `/v1/calls/${encodeURIComponent(assertCallId(id))}/cancel`,
        token,
        idempotencyKey: `cancel-${id}`,
      },
      UpstreamCall,
    );
  }
  statistics(token: string) {
    return this.send({ method: "GET", path: "/v1/users/me/statistics", token }, UpstreamStatistics);
  }
  subscription(token: string) {
    return this.send({ method: "GET", path: "/v1/users/me/subscription", token }, UpstreamSubscription);
  }
  billingPortal(token: string) {
    return this.send({ method: "GET", path: "/v1/stripe/billing-portal", token }, UpstreamBillingPortal);
  }

  async send<S extends z.ZodType>(spec: RequestSpec, schema: S): Promise<z.output<S>> {
    const repeatable = spec.method === "GET" || spec.idempotencyKey !== undefined;
    const attempts = repeatable ? this.opts.maxAttempts : 1;
    for (let attempt = 1; ; attempt++) {
      try {
        const body = await this.attempt(spec);
        const parsed = schema.safeParse(body);
        if (!parsed.success) throw upstreamInvalid();
        return parsed.data;
      } catch (err) {
        if (!(err instanceof Retryable)) throw err;
        const wait = err.waitMs ?? backoff(attempt);
        if (attempt >= attempts || wait > this.opts.maxRetryWaitMs) throw err.failure;
        await sleep(wait);
      }
    }
  }

  private async attempt(spec: RequestSpec): Promise<unknown> {
    const headers = new Headers({ accept: "application/json" });
    if (spec.token) headers.set("authorization", `Bearer ${spec.token}`);
    if (spec.idempotencyKey) headers.set("idempotency-key", await upstreamIdempotencyKey(spec.idempotencyKey));
    let body: string | undefined;
    if (spec.json !== undefined) {
      headers.set("content-type", "application/json");
      body = JSON.stringify(spec.json);
    } else if (spec.form) {
      headers.set("content-type", "application/x-www-form-urlencoded");
      body = new URLSearchParams(spec.form).toString();
    }
    const query = spec.query
      ? Object.fromEntries(
          Object.entries(spec.query)
            .filter(([, v]) => v !== undefined)
            .map(([k, v]) => [k, String(v)]),
        )
      : undefined;

    let response: Response;
    try {
      response = await this.opts.fetch(this.url(spec.path, query), {
        method: spec.method,
        headers,
        body,
        redirect: "manual",
        signal: AbortSignal.timeout(this.opts.timeoutMs),
      });
    } catch (err) {
      if (isTimeout(err)) throw upstreamTimeout(); // not retried: the budget of the caller is spent
      throw new Retryable(upstreamUnreachable(), undefined);
    }

    let text: string;
    try {
      text = await response.text();
    } catch (err) {
      if (isTimeout(err)) throw upstreamTimeout();
      throw new Retryable(upstreamUnreachable(), undefined);
    }
    const json = parseJson(text);
    if (response.ok) {
      if (json === undefined) throw upstreamInvalid();
      return json;
    }
    const retryAfter = parseRetryAfter(response.headers.get("retry-after"));
    const failure = upstreamFailure(response.status, json, retryAfter);
    if (response.status === 429 || response.status >= 500) {
      throw new Retryable(failure, retryAfter === undefined ? undefined : retryAfter * 1000);
    }
    throw failure;
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function parseRetryAfter(value: string | null): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, (date - Date.now()) / 1000);
}

const isTimeout = (err: unknown) => err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError");
const backoff = (attempt: number) => 200 * 2 ** (attempt - 1) + Math.random() * 100;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
