import type { z } from "zod";
import { version } from "../../package.json";
import type { Config } from "../env";
import { upstreamFailure, upstreamInvalid, upstreamTimeout, upstreamUnreachable } from "./errors";
import { assertCallId, upstreamIdempotencyKey } from "./safe-values";
import {
  MAX_LIST_LIMIT,
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
  /** Who is asking, in KallyAI's logs (default `KallyAI-Bridge/<version>`). */
  userAgent?: string;
}

/** How this bridge introduces itself to KallyAI, as KallyAI's CLI sends `KallyAI-CLI/<version>`. */
export const BRIDGE_USER_AGENT = `KallyAI-Bridge/${version}`;

interface RequestSpec {
  method: "GET" | "POST";
  path: string;
  token?: string;
  json?: unknown;
  form?: Record<string, string>;
  idempotencyKey?: string;
  query?: Record<string, string | number | undefined>;
  /** This request's own timeout, when it may take longer than the client's (placing a call). */
  timeoutMs?: number;
  accept?: string;
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
      userAgent: opts.userAgent ?? BRIDGE_USER_AGENT,
    };
  }

  static fromConfig(cfg: Config, fetch?: typeof globalThis.fetch): KallyAIClient {
    return new KallyAIClient({ baseUrl: cfg.upstream.baseUrl, timeoutMs: cfg.upstream.timeoutMs, fetch });
  }

  url(path: string, query?: Record<string, string>): string {
    const qs = query ? `?${new URLSearchParams(query)}` : "";
    return `${this.opts.baseUrl}${path}${qs}`;
  }

  /** Refreshes tokens from KallyAI's CLI sign-in. The answer may carry no new refresh token: keep the old one. */
  refresh(refreshToken: string) {
    return this.send({ method: "POST", path: "/v1/auth/refresh", json: { refresh_token: refreshToken } }, TokenSet);
  }
  /** Refreshes tokens an OAuth client obtained, at the token endpoint with the client's credentials. */
  refreshClient(refreshToken: string, client: { client_id: string; client_secret: string }) {
    return this.send(
      {
        method: "POST",
        path: "/v1/auth/gpt/token",
        form: { grant_type: "refresh_token", refresh_token: refreshToken, ...client },
      },
      TokenSet,
    );
  }
  exchangeCode(form: { code: string; redirect_uri: string; client_id: string; client_secret: string }) {
    return this.send(
      { method: "POST", path: "/v1/auth/gpt/token", form: { grant_type: "authorization_code", ...form } },
      TokenSet,
    );
  }
  /**
   * Places a call. KallyAI answers when the call has ended, so `timeoutMs` should outlast the
   * longest call; without it the client's own (short) timeout applies.
   */
  placeCall(
    token: string,
    body: { submission: Record<string, unknown>; timezone: string },
    idempotencyKey: string,
    opts: { timeoutMs?: number } = {},
  ) {
    return this.send(
      { method: "POST", path: "/v1/calls", token, json: body, idempotencyKey, timeoutMs: opts.timeoutMs },
      UpstreamCall,
    );
  }
  listCalls(token: string, page: { limit: number; offset: number }) {
    const limit = Math.min(MAX_LIST_LIMIT, Math.max(1, Math.trunc(page.limit)));
    return this.send(
      { method: "GET", path: "/v1/calls", token, query: { limit, offset: page.offset } },
      UpstreamCallList,
    );
  }
  /** The iCalendar file of what the call booked, as text. */
  calendar(token: string, id: string) {
    return this.sendText({
      method: "GET",
      path: `/v1/calls/${encodeURIComponent(assertCallId(id))}/calendar.ics`,
      token,
      accept: "text/calendar",
    });
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
    return this.withRetries(spec, async (response) => {
      const parsed = schema.safeParse(parseJson(await readBody(response)));
      if (!parsed.success) throw upstreamInvalid();
      return parsed.data;
    });
  }

  /** A request whose answer is not JSON (an .ics file): its text. */
  sendText(spec: RequestSpec): Promise<{ text: string; contentType: string | null }> {
    return this.withRetries(spec, async (response) => ({
      text: await readBody(response),
      contentType: response.headers.get("content-type"),
    }));
  }

  private async withRetries<T>(spec: RequestSpec, read: (ok: Response) => Promise<T>): Promise<T> {
    const repeatable = spec.method === "GET" || spec.idempotencyKey !== undefined;
    const attempts = repeatable ? this.opts.maxAttempts : 1;
    for (let attempt = 1; ; attempt++) {
      try {
        return await read(await this.attempt(spec));
      } catch (err) {
        if (!(err instanceof Retryable)) throw err;
        const wait = err.waitMs ?? backoff(attempt);
        if (attempt >= attempts || wait > this.opts.maxRetryWaitMs) throw err.failure;
        await sleep(wait);
      }
    }
  }

  /** One request: the successful response (its body unread), or a thrown failure. */
  private async attempt(spec: RequestSpec): Promise<Response> {
    const headers = new Headers({ accept: spec.accept ?? "application/json", "user-agent": this.opts.userAgent });
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
        signal: AbortSignal.timeout(spec.timeoutMs ?? this.opts.timeoutMs),
      });
    } catch (err) {
      if (isTimeout(err)) throw upstreamTimeout(); // not retried: the budget of the caller is spent
      throw new Retryable(upstreamUnreachable(), undefined);
    }
    if (response.ok) return response;
    const json = parseJson(await readBody(response));
    const retryAfter = parseRetryAfter(response.headers.get("retry-after"));
    const failure = upstreamFailure(response.status, json, retryAfter);
    if (response.status === 429 || response.status >= 500) {
      throw new Retryable(failure, retryAfter === undefined ? undefined : retryAfter * 1000);
    }
    throw failure;
  }
}

/** The body as text; a body cut off by the timeout or the network is a failure like the request's. */
async function readBody(response: Response): Promise<string> {
  try {
    return await response.text();
  } catch (err) {
    if (isTimeout(err)) throw upstreamTimeout();
    throw new Retryable(upstreamUnreachable(), undefined);
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
