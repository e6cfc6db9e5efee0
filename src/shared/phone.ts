import { type CountryCode, parsePhoneNumberFromString } from "libphonenumber-js";

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

/** Calling codes of the countries KallyAI calls: US and Canada, the UK, Spain and most of Europe. */
const SUPPORTED_CALLING_CODES = new Set([
  "1",
  "44",
  "34",
  "33",
  "49",
  "39",
  "351",
  "31",
  "32",
  "352",
  "353",
  "43",
  "41",
  "46",
  "47",
  "45",
  "358",
  "354",
  "48",
  "420",
  "421",
  "36",
  "30",
  "40",
  "359",
  "385",
  "386",
  "370",
  "371",
  "372",
  "356",
  "357",
]);

export const SUPPORTED_COUNTRIES_TEXT = "the US, Canada, the UK, Spain and most of Europe";

export function isSupportedCountry(e164: string): boolean {
  const parsed = parsePhoneNumberFromString(e164);
  return parsed !== undefined && SUPPORTED_CALLING_CODES.has(parsed.countryCallingCode);
}

export function isPremiumRate(e164: string): boolean {
  if (/^\+1(900|976)/.test(e164)) return true;
  return parsePhoneNumberFromString(e164)?.getType() === "PREMIUM_RATE";
}

export type { CountryCode };

export type PhoneResult = { ok: true; e164: string } | { ok: false; reason: "missing" | "invalid" | "emergency" };

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
  const parsed = parsePhoneNumberFromString(international, country.toUpperCase() as CountryCode);
  if (!parsed?.isPossible()) return { ok: false, reason: "invalid" };
  if (isEmergencyNumber(parsed.nationalNumber)) return { ok: false, reason: "emergency" };
  return { ok: true, e164: parsed.number };
}
