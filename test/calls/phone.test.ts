import * as full from "libphonenumber-js";
import examples from "libphonenumber-js/examples.mobile.json";
import fullMetadata from "libphonenumber-js/metadata.min.json";
import { describe, expect, it } from "vitest";
import { SUPPORTED_CALLING_CODES } from "../../src/shared/calling-codes";
import { isPremiumRate, isSupportedCountry, normalizePhone } from "../../src/shared/phone";
import cut from "../../src/shared/phone-metadata.json";
import { linkedUser } from "../support/accounts";
import { errorOf } from "../support/bridge";
import { place } from "../support/calls";
import { sandboxRequestCount } from "../support/sandbox";

type Full = { version: number; country_calling_codes: Record<string, string[]>; countries: Record<string, unknown> };
const whole = fullMetadata as unknown as Full & { nonGeographic: Record<string, unknown> };
const mobile = examples as Record<string, string>;
const supportedRegions = SUPPORTED_CALLING_CODES.flatMap((code) => whole.country_calling_codes[code] ?? []);
const otherRegions = Object.keys(mobile).filter((r) => !supportedRegions.includes(r) && r in whole.countries);
const national = (region: string) => full.parsePhoneNumberFromString(mobile[region]!, region as full.CountryCode)!;

describe("the phone metadata the worker ships (npm run phone-metadata)", () => {
  it("is libphonenumber-js's own, for every country of the calling codes KallyAI calls, and nothing else", () => {
    expect(cut.version).toBe(whole.version);
    expect(Object.keys(cut.country_calling_codes).sort()).toEqual([...SUPPORTED_CALLING_CODES].sort());
    for (const code of SUPPORTED_CALLING_CODES)
      expect(cut.country_calling_codes[code as keyof typeof cut.country_calling_codes], code).toEqual(
        whole.country_calling_codes[code],
      );
    expect(Object.keys(cut.countries).sort()).toEqual([...supportedRegions].sort());
    for (const region of supportedRegions)
      expect(cut.countries[region as keyof typeof cut.countries], region).toEqual(whole.countries[region]);
    const others = new Set([...Object.keys(whole.country_calling_codes), ...Object.keys(whole.nonGeographic)]);
    for (const code of SUPPORTED_CALLING_CODES) others.delete(code);
    expect(cut.other_calling_codes).toEqual([...others].sort());
  });

  it("reads every supported country's numbers as the whole metadata does, national and international", () => {
    expect(supportedRegions.length).toBeGreaterThan(50);
    for (const region of supportedRegions) {
      if (!mobile[region]) continue;
      const expected = national(region);
      expect(normalizePhone(expected.formatNational(), region), region).toEqual({ ok: true, e164: expected.number });
      expect(normalizePhone(expected.formatInternational(), "US"), region).toEqual({ ok: true, e164: expected.number });
      expect(isSupportedCountry(expected.number), region).toBe(true);
      expect(isPremiumRate(expected.number), region).toBe(false);
    }
    expect(isPremiumRate("+44 909 879 0000")).toBe(true);
  });

  it("reads another country's international number as its E.164, which is not a supported country", () => {
    expect(otherRegions.length).toBeGreaterThan(150);
    for (const region of otherRegions) {
      const expected = national(region);
      expect(normalizePhone(expected.formatInternational(), "US"), region).toEqual({ ok: true, e164: expected.number });
      expect(normalizePhone(`00${expected.number.slice(1)}`, "ES"), region).toEqual({
        ok: true,
        e164: expected.number,
      });
      expect(isSupportedCountry(expected.number), region).toBe(false);
    }
  });

  it("answers unsupported_country for a national number of a country KallyAI does not call", () => {
    expect(normalizePhone("03-1234-5678", "JP")).toEqual({ ok: false, reason: "unsupported_country" });
    expect(normalizePhone("138 0013 8000", "cn")).toEqual({ ok: false, reason: "unsupported_country" });
  });

  it("still answers invalid for what is no number: an unassigned calling code, too few digits, letters", () => {
    for (const [text, region] of [
      ["+999 1234 5678", "US"],
      ["+81 34", "US"],
      ["+1 415 555 12345678", "US"],
      ["12", "JP"],
      ["+81 3 hello", "US"],
    ] as const)
      expect(normalizePhone(text, region), text).toEqual({ ok: false, reason: "invalid" });
  });
});

describe("POST /v1/calls with a number of a country KallyAI does not call", () => {
  it("national format: 403 country_restriction on the phone field, and nothing is sent to KallyAI", async () => {
    const user = await linkedUser();
    const before = await sandboxRequestCount("POST", "/v1/calls");
    const res = await place(user.apiKey, { phone: "03-1234-5678", country: "JP", task: "Ask about store hours today" });
    expect(res.status).toBe(403);
    expect(await errorOf(res)).toMatchObject({ code: "country_restriction", field: "phone" });
    expect(await sandboxRequestCount("POST", "/v1/calls")).toBe(before);
  });

  it("international format: KallyAI's own 403 country_restriction, as before", async () => {
    const user = await linkedUser();
    const res = await place(user.apiKey, { phone: "+81 3-1234-5678", task: "Ask about store hours today" });
    expect(res.status).toBe(403);
    expect(await errorOf(res)).toMatchObject({ code: "country_restriction" });
  });
});
