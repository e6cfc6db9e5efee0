import { importJWK, type JWK, errors as joseErrors, jwtVerify, SignJWT } from "jose";
import { ConfigError } from "../env";
import { ApiError } from "../errors";

/**
 * What a key may do. `account:manage` (create, list and revoke keys; unlink the account) belongs
 * to the sign-in key; a key made with POST /v1/keys gets it only when asked for explicitly.
 */
export const SCOPES = ["calls:write", "calls:read", "account:read", "webhooks", "account:manage"] as const;
export type Scope = (typeof SCOPES)[number];
export const MANAGE_SCOPE = "account:manage" satisfies Scope;

export interface KeyClaims {
  userId: string;
  keyId: string;
  name: string;
  scopes: Scope[];
  expiresAt: number | null;
}

type KeyLike = CryptoKey | Uint8Array;
interface SigningKey {
  kid: string;
  alg: string;
  sign: KeyLike;
  verify: KeyLike;
}

/**
 * API keys are JWTs: `kid` names the signing key so keys rotate without invalidating live API
 * keys, `iss`/`aud` bind them to this deployment, `sub` is the user and `jti` the key's row.
 */
export class KeySigner {
  private constructor(
    /** The key new API keys are signed with: the first of API_KEY_SIGNING_KEYS. */
    private readonly current: SigningKey,
    private readonly keys: SigningKey[],
    private readonly issuer: string,
  ) {}

  static async fromSecret(secret: string, bridgeId: string): Promise<KeySigner> {
    let jwks: unknown;
    try {
      jwks = JSON.parse(secret);
    } catch {
      throw new ConfigError("API_KEY_SIGNING_KEYS must be a JSON array of JWKs");
    }
    const list = (Array.isArray(jwks) ? jwks : [jwks]) as JWK[];
    const keys: SigningKey[] = [];
    for (const jwk of list) {
      if (!jwk?.kid || !jwk.alg || jwk.alg === "none")
        throw new ConfigError("every JWK in API_KEY_SIGNING_KEYS needs a kid and an alg");
      const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicPart } = jwk;
      let sign: KeyLike;
      let verify: KeyLike;
      try {
        sign = await importJWK(jwk, jwk.alg);
        // jose gives a shared secret as bytes and would import them on every sign and verify:
        // import them once here (per isolate, as signerFor caches the signer).
        if (sign instanceof Uint8Array) sign = await importHmacKey(sign, jwk.alg);
        verify = jwk.kty === "oct" ? sign : await importJWK(publicPart, jwk.alg);
      } catch {
        throw new ConfigError(
          `API_KEY_SIGNING_KEYS: the JWK "${jwk.kid}" could not be imported (check kty, alg and base64url fields)`,
        );
      }
      keys.push({ kid: jwk.kid, alg: jwk.alg, sign, verify });
    }
    const [current] = keys;
    if (!current) throw new ConfigError("API_KEY_SIGNING_KEYS has no key");
    return new KeySigner(current, keys, bridgeId);
  }

  get audience() {
    return `${this.issuer}/api`;
  }

  async sign(claims: KeyClaims): Promise<string> {
    const key = this.current;
    const jwt = new SignJWT({ scope: claims.scopes.join(" "), name: claims.name })
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: "JWT" })
      .setIssuer(this.issuer)
      .setAudience(this.audience)
      .setSubject(claims.userId)
      .setJti(claims.keyId)
      .setIssuedAt();
    if (claims.expiresAt !== null) jwt.setExpirationTime(Math.floor(claims.expiresAt / 1000));
    return jwt.sign(key.sign);
  }

  /** Checks signature, issuer, audience and expiry. Revocation is the caller's D1 check. */
  async verify(token: string): Promise<KeyClaims> {
    try {
      const { payload } = await jwtVerify(
        token,
        (header) => {
          const key = this.keys.find((k) => k.kid === header.kid && k.alg === header.alg);
          if (!key) throw new joseErrors.JWKSNoMatchingKey();
          return key.verify;
        },
        { issuer: this.issuer, audience: this.audience, algorithms: [...new Set(this.keys.map((k) => k.alg))] },
      );
      const scopes = String(payload.scope ?? "")
        .split(" ")
        .filter((s): s is Scope => (SCOPES as readonly string[]).includes(s));
      if (!payload.sub || !payload.jti) throw new Error("claims missing");
      return {
        userId: payload.sub,
        keyId: payload.jti,
        name: String(payload.name ?? ""),
        scopes,
        expiresAt: payload.exp ? payload.exp * 1000 : null,
      };
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired)
        throw new ApiError(
          401,
          "api_key_expired",
          "This API key has expired. Create a new one with POST /v1/keys, or sign in again at /auth/login.",
        );
      throw invalidKey();
    }
  }
}

const HMAC_HASHES: Record<string, string> = { HS256: "SHA-256", HS384: "SHA-384", HS512: "SHA-512" };

function importHmacKey(secret: Uint8Array, alg: string): Promise<CryptoKey> {
  const hash = HMAC_HASHES[alg];
  if (!hash)
    throw new ConfigError(
      `API_KEY_SIGNING_KEYS: alg ${alg} does not fit a shared-secret (oct) key; use HS256, HS384 or HS512`,
    );
  return crypto.subtle.importKey("raw", secret, { name: "HMAC", hash }, false, ["sign", "verify"]);
}

export const invalidKey = () =>
  new ApiError(
    401,
    "invalid_api_key",
    "The API key is not valid for this bridge. Send a key created by this bridge in `Authorization: Bearer <key>` or `X-API-Key`.",
  );

const cache = new Map<string, Promise<KeySigner>>();
export function signerFor(secret: string, bridgeId: string): Promise<KeySigner> {
  const id = `${bridgeId}\n${secret}`;
  let signer = cache.get(id);
  if (!signer) {
    signer = KeySigner.fromSecret(secret, bridgeId);
    signer.catch(() => cache.delete(id));
    cache.set(id, signer);
  }
  return signer;
}
