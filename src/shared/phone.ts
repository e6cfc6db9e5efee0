import { type CountryCode, type MetadataJson, parsePhoneNumberFromString } from "libphonenumber-js/core";
import { SUPPORTED_CALLING_CODES, SUPPORTED_COUNTRIES_TEXT } from "./calling-codes";
import phoneMetadata from "./phone-metadata.json";

/**
 * libphonenumber's metadata for the countries KallyAI calls only (scripts/phone-metadata.mjs):
 * a number of any other country has no metadata here, so it is read as plain E.164 (below) and
 * refused as an unsupported country, never as an invalid number.
 */
const metadata = phoneMetadata as unknown as MetadataJson & { countries: Record<string, unknown> };
const otherCallingCodes = new Set(phoneMetadata.other_calling_codes);
const parse = (text: string, country: CountryCode | { defaultCountry?: CountryCode } = {}) =>
  parsePhoneNumberFromString(text, country, metadata);
const supportedCodes = new Set(SUPPORTED_CALLING_CODES);

/**
 * Emergency and short service numbers across the countries KallyAI serves and beyond.
 * They are never called, in any formatting ("9-1-1", "+1 911", "(112)").
 */
const EMERGENCY = new Set([
  "911",
  "112",
  "999",
  "000",
  "110",
  "119",
  "118",
  "15",
  "17",
  "18",
  "100",
  "101",
  "102",
  "103",
  "104",
  "108",
  "113",
  "115",
  "116",
  "120",
  "122",
  "123",
  "133",
  "190",
  "192",
  "193",
  "194",
  "197",
  "061",
  "062",
  "080",
  "081",
  "085",
  "088",
  "091",
  "092",
  "1006",
  "116117",
  "116000",
  "116111",
  "988",
  "311",
  "211",
]);

export function isEmergencyNumber(raw: string): boolean {
  const all = raw.replace(/\D/g, "");
  if (EMERGENCY.has(all)) return true;
  const digits = all.replace(/^00/, "");
  if (digits.length === 0 || digits.length > 7) return false;
  if (EMERGENCY.has(digits)) return true;
  // A country calling code in front ("+1 911", "+44 999", "0034 112") does not make it callable.
  for (let cc = 1; cc <= 3 && cc < digits.length; cc++) if (EMERGENCY.has(digits.slice(cc))) return true;
  return false;
}

export const E164 = /^\+[1-9]\d{6,14}$/;

export { SUPPORTED_COUNTRIES_TEXT };

export function isSupportedCountry(e164: string): boolean {
  const parsed = parse(e164);
  return parsed !== undefined && supportedCodes.has(parsed.countryCallingCode);
}

export function isPremiumRate(e164: string): boolean {
  if (/^\+1(900|976)/.test(e164)) return true;
  return parse(e164)?.getType() === "PREMIUM_RATE";
}

export type { CountryCode };

export type PhoneResult =
  | { ok: true; e164: string }
  | { ok: false; reason: "missing" | "invalid" | "emergency" | "unsupported_country" };

/**
 * Turns a number as people type it ("(415) 555-1234", "0034 912 345 678", "+44 20 7946 0958")
 * into E.164, reading national formats in `country`. Emergency numbers are caught first.
 */
export function normalizePhone(raw: string | undefined, country: string): PhoneResult {
  const text = raw?.trim() ?? "";
  if (!text) return { ok: false, reason: "missing" };
  if (isEmergencyNumber(text)) return { ok: false, reason: "emergency" };
  if (/[a-z]/i.test(text.replace(/\b(ext|x)\.?\s*\d+$/i, ""))) return { ok: false, reason: "invalid" };
  // International prefixes typed out: 00 (most of the world) and 011 (North America).
  const international = text.replace(/^\s*(00|011(?=[\s\d]{8,}))\s*/, "+");
  const region = country.toUpperCase() as CountryCode;
  const parsed = parse(international, region);
  if (!parsed) return outsideMetadata(international, region);
  if (!parsed.isPossible()) return { ok: false, reason: "invalid" };
  if (isEmergencyNumber(parsed.nationalNumber)) return { ok: false, reason: "emergency" };
  return { ok: true, e164: parsed.number };
}

/**
 * A number the metadata here does not cover: in international format with another country's
 * calling code, it is that country's number as E.164 (KallyAI does not call it, and says so); in
 * national format for a country KallyAI does not call, that is the answer; anything else is invalid.
 */
function outsideMetadata(text: string, region: CountryCode): PhoneResult {
  const number = text.replace(/\s*\b(ext|x)\.?\s*\d+$/i, "");
  if (/[^\d\s().+-]/.test(number)) return { ok: false, reason: "invalid" };
  if (number.startsWith("+")) {
    const e164 = `+${number.replace(/\D/g, "")}`;
    const otherCountry = [1, 2, 3].some((n) => otherCallingCodes.has(e164.slice(1, 1 + n)));
    return otherCountry && E164.test(e164) ? { ok: true, e164 } : { ok: false, reason: "invalid" };
  }
  const digits = number.replace(/\D/g, "").length;
  return digits >= 4 && !(region in metadata.countries)
    ? { ok: false, reason: "unsupported_country" }
    : { ok: false, reason: "invalid" };
}
