import { version } from "../../package.json";
import { ApiError } from "../../src/errors";
import { KallyAIClient } from "../../src/kallyai/client";
import type { UpstreamCall } from "../../src/kallyai/schemas";
import { type CallInput, toUpstreamRequest } from "../../src/shared/call-input";
import { viewOfUpstream } from "../../src/shared/call-view";
import { CliError, EXIT, fromHttp, usageError } from "../errors";
import { signIn } from "../login";
import { readTokenFile, removeFile, type TokenFile, writeTokenFile } from "../token-file";
import type { AuthStatus, CallView, LoginOptions, Target } from "./types";

/** Refresh this long before the access token runs out, so a request never races its expiry. */
const REFRESH_MARGIN_S = 60;
const iso = (epochSeconds: number) => new Date(epochSeconds * 1000).toISOString();

/** How long placing a call may take: KallyAI answers when the call has ended, and its own CLI waits 300 s. */
export const DEFAULT_PLACE_TIMEOUT_S = 300;

export interface DirectOptions {
  baseUrl: string;
  tokenFile: string;
  defaultCountry: string;
  /** How long the POST that places a call may wait for KallyAI's answer (the call's end). */
  placeTimeoutSeconds?: number;
  /** Sign in on first use when there is no token (interactive terminals only). */
  autoLogin: LoginOptions | null;
}

/** KallyAI's API itself, with the official CLI's token file, refreshed automatically. */
export class DirectTarget implements Target {
  readonly kind = "direct" as const;
  readonly baseUrl: string;
  private readonly client: KallyAIClient;

  constructor(private readonly opts: DirectOptions) {
    this.baseUrl = opts.baseUrl.replace(/\/+$/, "");
    this.client = new KallyAIClient({
      baseUrl: this.baseUrl,
      timeoutMs: 30_000,
      userAgent: `KallyAI-Bridge-CLI/${version}`,
    });
  }

  /**
   * Places the call and, like KallyAI's own CLI, waits for KallyAI's answer, which comes when the
   * call has ended. A call still going when the wait runs out cannot be named (KallyAI sent no id
   * yet): exit 9 points to --history.
   */
  async placeCall(input: CallInput, timezone: string, idempotencyKey: string): Promise<CallView> {
    const built = toUpstreamRequest(input, { timezone, country: this.opts.defaultCountry });
    if (!built.ok) throw new CliError(EXIT.usage, built.code, built.message);
    const seconds = this.opts.placeTimeoutSeconds ?? DEFAULT_PLACE_TIMEOUT_S;
    const request = built.request as Parameters<KallyAIClient["placeCall"]>[1];
    try {
      return viewOf(
        await this.authed((t) => this.client.placeCall(t, request, idempotencyKey, { timeoutMs: seconds * 1000 })),
      );
    } catch (err) {
      if (err instanceof CliError && err.code === "upstream_timeout")
        throw new CliError(
          EXIT.stillRunning,
          "still_running",
          `KallyAI did not answer within ${seconds} s: the call may still be going.`,
          "Find it with kallyai --history once it has ended (KALLYAI_WAIT_SECONDS waits longer).",
        );
      throw err;
    }
  }
  async getCall(id: string) {
    return viewOf(await this.authed((t) => this.client.getCall(t, id)));
  }
  async listCalls(limit: number) {
    const list = await this.authed((t) => this.client.listCalls(t, { limit, offset: 0 }));
    return list.items.map(viewOf);
  }
  async transcript(id: string) {
    const t = await this.authed((token) => this.client.transcript(token, id));
    return {
      call_id: id,
      entries: t.entries.map((e) => ({ speaker: e.speaker, content: e.content, timestamp: e.timestamp ?? null })),
    };
  }
  usage() {
    return this.authed((t) => this.client.statistics(t));
  }
  subscription() {
    return this.authed((t) => this.client.subscription(t));
  }
  billing() {
    return this.authed((t) => this.client.billingPortal(t));
  }

  async login(opts: LoginOptions) {
    const file = await this.signInAndSave(opts);
    return { target: this.kind, credentials_file: this.opts.tokenFile, expires_at: iso(file.expires_at) };
  }

  async logout(opts: { unlink: boolean }) {
    if (opts.unlink)
      throw usageError("--unlink is for bridge mode (--bridge URL): it unlinks your KallyAI account from the bridge.");
    return { target: this.kind, removed: removeFile(this.opts.tokenFile), credentials_file: this.opts.tokenFile };
  }

  async authStatus(): Promise<AuthStatus> {
    const file = readTokenFile(this.opts.tokenFile);
    const status: AuthStatus = {
      target: this.kind,
      base_url: this.baseUrl,
      signed_in: file !== null,
      credentials_file: this.opts.tokenFile,
    };
    if (file) status.expires_at = iso(file.expires_at);
    return status;
  }

  /** A valid access token: from the file, refreshed when (nearly) expired, or from a new sign-in. */
  private async token(): Promise<string> {
    let file = readTokenFile(this.opts.tokenFile);
    if (!file) {
      if (!this.opts.autoLogin)
        throw new CliError(
          EXIT.auth,
          "not_signed_in",
          "You are not signed in to KallyAI.",
          "Run kallyai --login (add --no-browser to get a URL to open yourself).",
        );
      file = await this.signInAndSave(this.opts.autoLogin);
    }
    if (file.expires_at - REFRESH_MARGIN_S <= Date.now() / 1000) file = await this.refresh(file);
    return file.access_token;
  }

  /** Signs in with KallyAI's CLI flow and saves the tokens. */
  private async signInAndSave(opts: LoginOptions): Promise<TokenFile> {
    return writeTokenFile(this.opts.tokenFile, await signIn(this.baseUrl, opts));
  }

  private async refresh(file: TokenFile): Promise<TokenFile> {
    const expired = () =>
      new CliError(
        EXIT.auth,
        "session_expired",
        "Your KallyAI session has expired or was revoked.",
        "Run kallyai --login to sign in again.",
      );
    if (!file.refresh_token) throw expired();
    try {
      const tokens = await this.client.refresh(file.refresh_token);
      // KallyAI may answer without a new refresh token: the one in the file stays valid, as its CLI keeps it.
      return writeTokenFile(this.opts.tokenFile, {
        ...tokens,
        refresh_token: tokens.refresh_token ?? file.refresh_token,
      });
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) throw expired();
      throw this.failure(err);
    }
  }

  /** Runs a request with a fresh token; a 401 (token revoked early) gets one refresh and one retry. */
  private async authed<T>(fn: (token: string) => Promise<T>): Promise<T> {
    const token = await this.token();
    try {
      return await fn(token);
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 401)) throw this.failure(err);
      const file = readTokenFile(this.opts.tokenFile);
      if (!file) throw this.failure(err);
      const fresh = await this.refresh(file);
      try {
        return await fn(fresh.access_token);
      } catch (again) {
        throw this.failure(again);
      }
    }
  }

  /** The client's errors speak for the bridge; here they are about KallyAI and this CLI. */
  private failure(err: unknown): unknown {
    if (!(err instanceof ApiError)) return err;
    if (err.status === 401)
      return new CliError(
        EXIT.auth,
        "unauthorized",
        "KallyAI refused the saved sign-in.",
        "Run kallyai --login to sign in again.",
      );
    if (err.code === "upstream_unavailable") {
      if (err.status === 504)
        return new CliError(
          EXIT.unavailable,
          "upstream_timeout",
          "KallyAI did not answer in time. Try again in a minute.",
        );
      const what =
        err.status === 503
          ? "KallyAI is rate limiting requests"
          : `KallyAI (${this.baseUrl}) could not be reached or is having trouble`;
      return new CliError(EXIT.unavailable, err.code, `${what}. Try again in a minute.`);
    }
    if (err.code === "upstream_invalid_response")
      return new CliError(
        EXIT.unavailable,
        err.code,
        `KallyAI (${this.baseUrl}) sent an answer the CLI could not read. Is KALLYAI_API_BASE right?`,
      );
    return fromHttp(err.status, err.code, err.message, err.extra.upgradeUrl);
  }
}

/** KallyAI's call object in the bridge's flat shape: the bridge's own mapping. */
export const viewOf = (call: UpstreamCall): CallView => viewOfUpstream(call);
