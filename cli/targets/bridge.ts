import type { CallInput } from "../../src/shared/call-input";
import { CliError, EXIT, fromHttp } from "../errors";
import { signIn } from "../login";
import { readBridgeFile, removeFile, writeSecretJson } from "../token-file";
import type { AuthStatus, CallView, LoginOptions, Target, TranscriptView, Usage } from "./types";

export interface BridgeOptions {
  baseUrl: string;
  keyFile: string;
  /** --api-key or KALLYAI_API_KEY; otherwise the key saved by --login for this bridge. */
  apiKey: string | undefined;
  /** KALLYAI_API_BASE when set; otherwise the bridge's upstream, asked of its /health. */
  kallyaiBase: string | undefined;
  autoLogin: LoginOptions | null;
}

interface Request {
  method: "GET" | "POST" | "DELETE";
  path: string;
  json?: unknown;
  idempotencyKey?: string;
  auth?: boolean;
  /** A key other than the configured one (right after --login). */
  key?: string;
  timeoutMs?: number;
}

const sameBridge = (a: string, b: string) => a.replace(/\/+$/, "") === b.replace(/\/+$/, "");

/** A KallyAI Bridge: calls, account and link endpoints with a bridge API key. */
export class BridgeTarget implements Target {
  readonly kind = "bridge" as const;
  readonly baseUrl: string;

  constructor(private readonly opts: BridgeOptions) {
    this.baseUrl = opts.baseUrl.replace(/\/+$/, "");
  }

  async placeCall(input: CallInput, timezone: string, idempotencyKey: string): Promise<CallView> {
    const body = { ...input, timezone: input.timezone ?? timezone };
    const placed = await this.send<{ id: string; status: string; created_at?: string }>({
      method: "POST",
      path: "/v1/calls",
      json: body,
      idempotencyKey,
    });
    // The 202 answer is short; the call itself has every field. The call is placed either way, so
    // when reading it back fails, the answer is built from what was sent.
    return this.getCall(placed.id).catch(() => placedView(placed, body));
  }
  getCall(id: string, waitSeconds?: number) {
    const wait = waitSeconds ? `?wait=${Math.min(25, Math.max(1, Math.round(waitSeconds)))}` : "";
    return this.send<CallView>({
      method: "GET",
      path: `/v1/calls/${encodeURIComponent(id)}${wait}`,
      timeoutMs: waitSeconds ? (waitSeconds + 15) * 1000 : undefined,
    });
  }
  async listCalls(limit: number) {
    return (await this.send<{ items: CallView[] }>({ method: "GET", path: `/v1/calls?limit=${limit}` })).items;
  }
  transcript(id: string) {
    return this.send<TranscriptView>({ method: "GET", path: `/v1/calls/${encodeURIComponent(id)}/transcript` });
  }
  usage() {
    return this.send<Usage>({ method: "GET", path: "/v1/usage" });
  }
  subscription() {
    return this.send<Record<string, unknown>>({ method: "GET", path: "/v1/subscription" });
  }
  billing() {
    return this.send<{ portal_url: string }>({ method: "GET", path: "/v1/billing" });
  }

  /** KallyAI's sign-in, then the refresh token goes to the bridge (POST /v1/link) for a bridge API key. */
  async login(opts: LoginOptions) {
    const previous = this.savedKey();
    const kallyai = await this.kallyaiBase();
    const tokens = await signIn(kallyai, opts);
    opts.say("Signed in to KallyAI; linking the account to the bridge…");
    const linked = await this.send<{ api_key: string; key_id: string; user_id: string }>({
      method: "POST",
      path: "/v1/link",
      json: { refresh_token: tokens.refresh_token, key_name: "kallyai-cli" },
      auth: false,
    });
    writeSecretJson(this.opts.keyFile, {
      bridge_url: this.baseUrl,
      api_key: linked.api_key,
      key_id: linked.key_id,
      user_id: linked.user_id,
      saved_at: new Date().toISOString(),
    });
    if (previous?.key_id && previous.key_id !== linked.key_id && previous.user_id === linked.user_id) {
      // Signing in again replaces the key this CLI saved before; the old one is revoked (best effort).
      await this.send({
        method: "DELETE",
        path: `/v1/keys/${encodeURIComponent(previous.key_id)}`,
        key: linked.api_key,
      }).catch(() => undefined);
    }
    return {
      target: this.kind,
      credentials_file: this.opts.keyFile,
      key_id: linked.key_id,
      user_id: linked.user_id,
      bridge_url: this.baseUrl,
    };
  }

  /** Deletes the saved key (revoking it on the bridge when this CLI made it); --unlink unlinks the account too. */
  async logout(opts: { unlink: boolean }) {
    const saved = this.savedKey();
    const result: Awaited<ReturnType<Target["logout"]>> = {
      target: this.kind,
      removed: false,
      credentials_file: this.opts.keyFile,
    };
    if (opts.unlink) {
      // Unlinking needs a key; signing in just to unlink makes no sense.
      if (!this.opts.apiKey && !saved) throw this.noKey();
      const unlinked = await this.send<{ unlinked: boolean; revoked_keys: number }>({
        method: "POST",
        path: "/v1/unlink",
      });
      result.unlinked = unlinked.unlinked;
      result.revoked_keys = unlinked.revoked_keys;
    } else if (saved?.key_id && !this.opts.apiKey) {
      // Best effort: the file goes either way.
      await this.send({ method: "DELETE", path: `/v1/keys/${encodeURIComponent(saved.key_id)}` }).catch(
        () => undefined,
      );
    }
    if (saved) result.removed = removeFile(this.opts.keyFile);
    return result;
  }

  async authStatus(): Promise<AuthStatus> {
    const status: AuthStatus = {
      target: this.kind,
      base_url: this.baseUrl,
      signed_in: false,
      credentials_file: this.opts.keyFile,
    };
    if (!this.opts.apiKey && !this.savedKey()) return status;
    try {
      const me = await this.send<{
        linked: boolean;
        user_id: string;
        key: { id: string; expires_at: string | null };
        upstream: { state: string; token_expires_at: string | null };
      }>({ method: "GET", path: "/v1/me" });
      return {
        ...status,
        signed_in: true,
        linked: me.linked,
        user_id: me.user_id,
        key_id: me.key.id,
        key_expires_at: me.key.expires_at,
        upstream_state: me.upstream.state,
        upstream_token_expires_at: me.upstream.token_expires_at,
      };
    } catch (err) {
      if (err instanceof CliError && err.exitCode === EXIT.auth) return { ...status, problem: err.message };
      throw err;
    }
  }

  private savedKey() {
    const file = readBridgeFile(this.opts.keyFile);
    return file && sameBridge(file.bridge_url, this.baseUrl) ? file : null;
  }

  private async apiKey(): Promise<string> {
    if (this.opts.apiKey) return this.opts.apiKey;
    if (!this.savedKey() && this.opts.autoLogin) await this.login(this.opts.autoLogin);
    const saved = this.savedKey();
    if (saved) return saved.api_key;
    throw this.noKey();
  }

  private noKey(): CliError {
    const other = readBridgeFile(this.opts.keyFile);
    return new CliError(
      EXIT.auth,
      "no_api_key",
      other
        ? `The saved bridge API key is for ${other.bridge_url}, not ${this.baseUrl}.`
        : `No bridge API key for ${this.baseUrl}.`,
      `Run kallyai --bridge ${this.baseUrl} --login, or pass --api-key (or set KALLYAI_API_KEY).`,
    );
  }

  /** Where to sign in to KallyAI: KALLYAI_API_BASE, or the sandbox when the bridge runs in test mode. */
  private async kallyaiBase(): Promise<string> {
    if (this.opts.kallyaiBase) return this.opts.kallyaiBase.replace(/\/+$/, "");
    const health = await this.send<{ upstream?: string }>({ method: "GET", path: "/health", auth: false }).catch(
      () => null,
    );
    return health?.upstream === "sandbox" ? `${this.baseUrl}/sandbox` : "https://api.kallyai.com";
  }

  /** One request; reads, and calls with an Idempotency-Key, are tried up to 3 times on network and 5xx failures. */
  private async send<T>(req: Request): Promise<T> {
    const headers: Record<string, string> = { accept: "application/json" };
    if (req.auth !== false) headers.authorization = `Bearer ${req.key ?? (await this.apiKey())}`;
    if (req.json !== undefined) headers["content-type"] = "application/json";
    if (req.idempotencyKey) headers["idempotency-key"] = req.idempotencyKey;
    const attempts = req.method === "GET" || req.idempotencyKey ? 3 : 1;
    for (let attempt = 1; ; attempt++) {
      let res: Response;
      try {
        res = await fetch(`${this.baseUrl}${req.path}`, {
          method: req.method,
          headers,
          body: req.json === undefined ? undefined : JSON.stringify(req.json),
          redirect: "manual",
          signal: AbortSignal.timeout(req.timeoutMs ?? 30_000),
        });
      } catch (err) {
        if (attempt < attempts) {
          await sleep(300 * attempt);
          continue;
        }
        const timeout = err instanceof Error && err.name === "TimeoutError";
        throw new CliError(
          EXIT.unavailable,
          "bridge_unreachable",
          timeout
            ? `The bridge at ${this.baseUrl} did not answer in time.`
            : `Could not reach the bridge at ${this.baseUrl}.`,
          "Check --bridge / KALLYAI_BRIDGE_URL and that the bridge is running.",
        );
      }
      const text = await res.text();
      let body: unknown;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        body = undefined;
      }
      if (res.ok && body !== undefined) return body as T;
      if (res.status >= 500 && attempt < attempts) {
        await sleep(300 * attempt);
        continue;
      }
      throw this.failureOf(res.status, body);
    }
  }

  /** The bridge's error answer as the CLI's error (and exit code); one with no readable body says so. */
  private failureOf(status: number, body: unknown): CliError {
    const error = (body as { error?: { code?: unknown; message?: unknown; upgrade_url?: unknown } } | undefined)?.error;
    if (typeof error?.code !== "string")
      return new CliError(
        status >= 200 && status < 300 ? EXIT.unavailable : fromHttp(status, "bridge_error", "").exitCode,
        "bridge_error",
        `The bridge at ${this.baseUrl} answered ${status} with no readable body. Is --bridge the bridge's address?`,
      );
    const failure = fromHttp(
      status,
      error.code,
      typeof error.message === "string" ? error.message : `The bridge answered ${status}.`,
      typeof error.upgrade_url === "string" ? error.upgrade_url : undefined,
    );
    if (failure.exitCode !== EXIT.auth) return failure;
    return new CliError(
      EXIT.auth,
      failure.code,
      failure.message,
      `Get a new key with kallyai --bridge ${this.baseUrl} --login (or pass another with --api-key).`,
    );
  }
}

function placedView(placed: { id: string; status: string; created_at?: string }, input: CallInput): CallView {
  return {
    id: placed.id,
    status: placed.status,
    finished: false,
    highlights: null,
    next_steps: null,
    duration_seconds: null,
    created_at: placed.created_at ?? null,
    ended_at: null,
    phone: input.phone,
    task: input.task,
    category: input.category,
    business: input.business ?? null,
    name: input.name ?? null,
    party_size: input.party_size ?? null,
    date: input.date ?? null,
    time: input.time ?? null,
    time_preference: input.time_preference ?? null,
    timezone: input.timezone ?? null,
    language: input.language,
    call_language: input.call_language ?? input.language,
    user_phone: input.user_phone ?? null,
    urgent: input.urgent ?? null,
    instructions: input.instructions ?? null,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
