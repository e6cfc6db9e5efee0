import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";

/**
 * Where credentials live. Direct mode: ~/.kallyai_token.json, the official CLI's file and format.
 * Bridge mode: ~/.kallyai_bridge.json with the bridge API key. Both are written 0600.
 * KALLYAI_CONFIG_DIR moves both; KALLYAI_TOKEN_FILE moves the token file alone.
 */
export function credentialPaths(env: NodeJS.ProcessEnv = process.env) {
  const dir = env.KALLYAI_CONFIG_DIR || homedir();
  return {
    tokenFile: env.KALLYAI_TOKEN_FILE || join(dir, ".kallyai_token.json"),
    bridgeFile: join(dir, ".kallyai_bridge.json"),
  };
}

/** KallyAI's tokens, as the official CLI stores them; expires_at is Unix time in seconds. */
export interface TokenFile {
  access_token: string;
  /** The official CLI may store null when KallyAI sent none; then an expired token means signing in again. */
  refresh_token: string | null;
  expires_at: number;
}

/** A bridge API key and the bridge it belongs to. */
export interface BridgeFile {
  bridge_url: string;
  api_key: string;
  key_id?: string;
  user_id?: string;
  saved_at?: string;
}

export function readJson(path: string): Record<string, unknown> | null {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    return null;
  }
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === "object" ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** Writes through a temporary file created 0600, so the secret is never readable by others, not even briefly. */
export function writeSecretJson(path: string, value: object): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

export function removeFile(path: string): boolean {
  try {
    rmSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Accepts the official CLI's variants: seconds or milliseconds since 1970, or an ISO date. */
function toEpochSeconds(value: unknown): number | null {
  if (typeof value === "number" && Number.isFinite(value)) return value > 1e12 ? value / 1000 : value;
  if (typeof value === "string") {
    const n = Number(value);
    if (Number.isFinite(n) && value.trim() !== "") return toEpochSeconds(n);
    const ms = Date.parse(value);
    if (!Number.isNaN(ms)) return ms / 1000;
  }
  return null;
}

export function readTokenFile(path: string): TokenFile | null {
  const raw = readJson(path);
  if (!raw || typeof raw.access_token !== "string" || !raw.access_token) return null;
  const refresh = typeof raw.refresh_token === "string" && raw.refresh_token ? raw.refresh_token : null;
  return { access_token: raw.access_token, refresh_token: refresh, expires_at: toEpochSeconds(raw.expires_at) ?? 0 };
}

export function writeTokenFile(
  path: string,
  tokens: { access_token: string; refresh_token: string | null; expires_in: number },
): TokenFile {
  const file: TokenFile = {
    access_token: tokens.access_token,
    refresh_token: tokens.refresh_token,
    expires_at: Math.floor(Date.now() / 1000) + tokens.expires_in,
  };
  writeSecretJson(path, file);
  return file;
}

export function readBridgeFile(path: string): BridgeFile | null {
  const raw = readJson(path);
  if (!raw || typeof raw.api_key !== "string" || typeof raw.bridge_url !== "string") return null;
  return raw as unknown as BridgeFile;
}
