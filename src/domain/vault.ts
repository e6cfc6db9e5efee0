import { ConfigError } from "../env";
import { fromBase64, toBase64 } from "../shared/encoding";

/**
 * AES-256-GCM for the tokens at rest. A fresh IV per write; the user id is the associated data,
 * so a ciphertext copied to another user's row does not decrypt. Each ciphertext is stored with
 * the id of its key: old keys keep decrypting while new writes use the current one.
 */
export interface Sealed {
  keyId: string;
  ciphertext: string;
}

export class VaultError extends Error {}

const IV_BYTES = 12;
const aad = (userId: string) => new TextEncoder().encode(`kallyai-bridge/vault/v1/${userId}`);

export class Vault {
  private constructor(
    private readonly current: { id: string; key: CryptoKey },
    private readonly keys: Map<string, CryptoKey>,
  ) {}

  get currentKeyId(): string {
    return this.current.id;
  }

  /** `VAULT_KEYS` = `kid:base64key[,kid:base64key…]`, the first being the current key. */
  static async fromSecret(secret: string): Promise<Vault> {
    const keys = new Map<string, CryptoKey>();
    let current: { id: string; key: CryptoKey } | undefined;
    for (const entry of secret
      .split(",")
      .map((e) => e.trim())
      .filter(Boolean)) {
      const [kid, material] = entry.split(":");
      const bytes = kid && material ? safeDecode(material) : undefined;
      if (!kid || !bytes || bytes.length !== 32)
        throw new ConfigError("VAULT_KEYS must be `kid:base64` entries of 32-byte keys");
      const key = await crypto.subtle.importKey("raw", bytes, "AES-GCM", false, ["encrypt", "decrypt"]);
      keys.set(kid, key);
      current ??= { id: kid, key };
    }
    if (!current) throw new ConfigError("VAULT_KEYS has no key");
    return new Vault(current, keys);
  }

  async seal(userId: string, plaintext: string): Promise<Sealed> {
    const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
    const { id, key } = this.current;
    const ct = new Uint8Array(
      await crypto.subtle.encrypt(
        { name: "AES-GCM", iv, additionalData: aad(userId) },
        key,
        new TextEncoder().encode(plaintext),
      ),
    );
    const out = new Uint8Array(IV_BYTES + ct.length);
    out.set(iv);
    out.set(ct, IV_BYTES);
    return { keyId: id, ciphertext: toBase64(out) };
  }

  async open(userId: string, sealed: Sealed): Promise<string> {
    const key = this.keys.get(sealed.keyId);
    if (!key) throw new VaultError(`vault key ${sealed.keyId} is no longer configured`);
    const bytes = fromBase64(sealed.ciphertext);
    try {
      const pt = await crypto.subtle.decrypt(
        { name: "AES-GCM", iv: bytes.slice(0, IV_BYTES), additionalData: aad(userId) },
        key,
        bytes.slice(IV_BYTES),
      );
      return new TextDecoder().decode(pt);
    } catch {
      throw new VaultError("a vault entry failed to decrypt (wrong user or tampered)");
    }
  }
}

function safeDecode(text: string): Uint8Array | undefined {
  try {
    return fromBase64(text);
  } catch {
    return undefined;
  }
}

const cache = new Map<string, Promise<Vault>>();
/** One Vault per distinct secret, imported once per isolate. */
export function vaultFor(secret: string): Promise<Vault> {
  let vault = cache.get(secret);
  if (!vault) {
    vault = Vault.fromSecret(secret);
    vault.catch(() => cache.delete(secret));
    cache.set(secret, vault);
  }
  return vault;
}
