import { createHmac, timingSafeEqual } from "node:crypto";

/** Standard Webhooks: a delivery signed more than 5 minutes from now is refused (a replay, or a skewed clock). */
const TOLERANCE_SECONDS = 5 * 60;

export interface SignedHeaders {
  id?: string;
  timestamp?: string;
  signature?: string;
}

export type SignatureCheck = { valid: true } | { valid: false; reason: string };

/**
 * Checks a delivery against its Standard Webhooks signature: base64 HMAC-SHA256, keyed with the
 * base64 secret after "whsec_", of "{webhook-id}.{webhook-timestamp}.{raw body}", compared in
 * constant time with each "v1,…" entry of the webhook-signature header.
 */
export function verifySignature(
  secret: string,
  headers: SignedHeaders,
  rawBody: Buffer | string,
  nowSeconds = Math.floor(Date.now() / 1000),
): SignatureCheck {
  const { id, timestamp, signature } = headers;
  if (!id || !timestamp || !signature)
    return { valid: false, reason: "missing webhook-id, webhook-timestamp or webhook-signature header" };
  if (!/^\d+$/.test(timestamp)) return { valid: false, reason: "webhook-timestamp is not unix seconds" };
  if (Math.abs(nowSeconds - Number(timestamp)) > TOLERANCE_SECONDS)
    return { valid: false, reason: "webhook-timestamp is more than 5 minutes off" };
  const key = Buffer.from(secret.startsWith("whsec_") ? secret.slice("whsec_".length) : secret, "base64");
  const expected = createHmac("sha256", key).update(`${id}.${timestamp}.`).update(rawBody).digest();
  for (const entry of signature.split(" ")) {
    const [version, value] = entry.split(",");
    if (version !== "v1" || !value) continue;
    const given = Buffer.from(value, "base64");
    if (given.length === expected.length && timingSafeEqual(given, expected)) return { valid: true };
  }
  return { valid: false, reason: "no webhook-signature matches this delivery" };
}
