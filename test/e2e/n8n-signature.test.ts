import { randomBytes } from "node:crypto";
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { verifySignature } from "../../integrations/n8n/nodes/KallyAiTrigger/signature";

// The KallyAI Trigger's own Standard Webhooks check (a few lines of Node crypto, since a community
// node may have no runtime dependencies), held against the signatures of the `standardwebhooks`
// package itself.

const secret = `whsec_${randomBytes(32).toString("base64")}`;
const body = JSON.stringify({ id: "evt_1", type: "call.completed", data: { id: "6f1c", status: "success" } });
const now = Math.floor(Date.now() / 1000);

/** Headers as the standardwebhooks package signs them. */
function signed(payload = body, at = now, msgId = "evt_1", key = secret) {
  return { id: msgId, timestamp: String(at), signature: new Webhook(key).sign(msgId, new Date(at * 1000), payload) };
}

describe("the trigger's signature check", () => {
  it("accepts what standardwebhooks signs, as text or as the raw bytes", () => {
    expect(verifySignature(secret, signed(), body, now)).toEqual({ valid: true });
    expect(verifySignature(secret, signed(), Buffer.from(body), now)).toEqual({ valid: true });
  });

  it("accepts a header with several signatures when one of them matches (a rotated secret)", () => {
    const other = `whsec_${randomBytes(32).toString("base64")}`;
    const headers = signed();
    headers.signature = `${signed(body, now, "evt_1", other).signature} ${headers.signature}`;
    expect(verifySignature(secret, headers, body, now)).toEqual({ valid: true });
  });

  it("refuses a changed body, another id, another secret, and a missing header", () => {
    expect(verifySignature(secret, signed(), body.replace("success", "failed"), now).valid).toBe(false);
    expect(verifySignature(secret, { ...signed(), id: "evt_2" }, body, now).valid).toBe(false);
    const other = `whsec_${randomBytes(32).toString("base64")}`;
    expect(verifySignature(other, signed(), body, now).valid).toBe(false);
    expect(verifySignature(secret, { ...signed(), signature: undefined }, body, now)).toEqual({
      valid: false,
      reason: expect.stringContaining("missing"),
    });
  });

  it("refuses timestamps more than 5 minutes off, as standardwebhooks does", () => {
    const stale = signed(body, now - 301);
    expect(verifySignature(secret, stale, body, now)).toEqual({
      valid: false,
      reason: expect.stringContaining("5 minutes"),
    });
    expect(() =>
      new Webhook(secret).verify(body, {
        "webhook-id": stale.id,
        "webhook-timestamp": stale.timestamp,
        "webhook-signature": stale.signature,
      }),
    ).toThrow();
    expect(verifySignature(secret, signed(body, now + 301), body, now).valid).toBe(false);
    expect(verifySignature(secret, signed(body, now - 299), body, now)).toEqual({ valid: true });
  });

  it("agrees with standardwebhooks on random bodies", () => {
    for (let i = 0; i < 50; i++) {
      const payload = randomBytes(1 + (i % 64)).toString("base64");
      const headers = signed(payload, now, `evt_${i}`);
      expect(verifySignature(secret, headers, payload, now)).toEqual({ valid: true });
      const tampered = `${payload}x`;
      expect(verifySignature(secret, headers, tampered, now).valid).toBe(false);
      expect(() =>
        new Webhook(secret).verify(tampered, {
          "webhook-id": headers.id,
          "webhook-timestamp": headers.timestamp,
          "webhook-signature": headers.signature,
        }),
      ).toThrow();
    }
  });
});
