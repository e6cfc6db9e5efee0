import type { Context } from "hono";
import { config } from "../env";
import type { Fault } from "./scenarios";

export const FAULT_HEADER = "x-sandbox-fault";

/** Misbehaves on purpose, so clients can be tested against a failing upstream. */
export async function injectFault(fault: Fault, c: Context): Promise<Response> {
  switch (fault) {
    case "500":
      return c.json(
        {
          error: {
            code: "internal_error",
            details: { message: "Sandbox fault: internal server error." },
            correlation_id: crypto.randomUUID(),
          },
        },
        500,
      );
    case "429":
      return c.json(
        { error: { code: "rate_limited", details: { message: "Sandbox fault: too many requests." } } },
        429,
        {
          "retry-after": "7",
        },
      );
    case "malformed":
      return c.body('{"call_id": "truncated', 200, { "content-type": "application/json" });
    case "hang": {
      const ms = config(c.env).sandbox.hangSeconds * 1000;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        c.req.raw.signal?.addEventListener("abort", () => {
          clearTimeout(timer);
          resolve();
        });
      });
      return c.json(
        { error: { code: "internal_error", details: { message: "Sandbox fault: answered after hanging." } } },
        500,
      );
    }
  }
}

export const isFault = (value: string | undefined): value is Fault =>
  value === "500" || value === "429" || value === "hang" || value === "malformed";
