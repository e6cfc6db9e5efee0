import { describe, expect, it } from "vitest";
import { z } from "zod";
import { formErrors } from "../../src/console/respond";
import { ApiError } from "../../src/errors";

const FIELDS = ["phone", "task", "scopes"] as const;
const refused = (field?: string) =>
  new ApiError(422, "validation_error", "Fix this.", field === undefined ? {} : { field });

describe("formErrors: what a refused form shows, by field", () => {
  it("puts a 4xx's message under the field it names", () => {
    expect(formErrors(refused("task"), FIELDS)).toEqual({ task: "Fix this." });
  });

  it("reads a dotted field by its first name", () => {
    expect(formErrors(refused("phone.national"), FIELDS)).toEqual({ phone: "Fix this." });
  });

  it("shows at the top of the form what names no field of it, or no field at all", () => {
    expect(formErrors(refused("submission.respondent_phone"), FIELDS)).toEqual({ form: "Fix this." });
    expect(formErrors(refused("idempotency_key"), FIELDS)).toEqual({ form: "Fix this." });
    expect(formErrors(refused(), FIELDS)).toEqual({ form: "Fix this." });
  });

  it("shows it by another field when the form has no alert of its own", () => {
    expect(formErrors(refused(), FIELDS, "scopes")).toEqual({ scopes: "Fix this." });
    expect(formErrors(refused("task"), FIELDS, "scopes")).toEqual({ task: "Fix this." });
  });

  it("turns a zod error's issues into the first message per field", () => {
    const schema = z.object({
      phone: z.string().min(5, "Too short.").regex(/^\+/, "Start with +."),
      task: z.string().min(10, "At least 10 characters."),
      scopes: z.array(z.enum(["calls:read"], { error: "Pick from the list." })),
      other: z.string({ error: "Not on the form." }),
    });
    const parsed = schema.safeParse({ phone: "1", task: "short", scopes: ["calls:read", "nope"] });
    expect(parsed.success).toBe(false);
    expect(formErrors(parsed.error, FIELDS)).toEqual({
      phone: "Too short.",
      task: "At least 10 characters.",
      scopes: "Pick from the list.",
      form: "Not on the form.",
    });
  });

  it("throws on what is not the person's mistake: a 5xx, or any other error", () => {
    const upstream = new ApiError(502, "upstream_unavailable", "KallyAI failed.", { field: "phone" });
    expect(() => formErrors(upstream, FIELDS)).toThrow(upstream);
    const bug = new TypeError("undefined is not a function");
    expect(() => formErrors(bug, FIELDS)).toThrow(bug);
  });
});
