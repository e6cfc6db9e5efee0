import { parsePhoneNumberFromString, type CountryCode } from "libphonenumber-js";

/**
 * Emergency and short service numbers across the countries KallyAI serves and beyond.
 * They are never called, in any formatting ("9-1-1", "+1 911", "(112)").
 */
const EMERGENCY = new Set([
  "911", "112", "999", "000", "110", "119", "118", "15", "17", "18", "100", "101", "102", "103", "104",
  "108", "113", "115", "116", "120", "122", "123", "133", "190", "192", "193", "194", "197", "061", "062",
  "080", "081", "085", "088", "091", "092", "1006", "116117", "116000", "116111", "988", "311", "211",
]);

export function isEmergencyNumber(raw: string): boolean {
  const digits = raw.replace(/\D/g, "").replace(/^00/, "");
  if (digits.length === 0 || digits.length > 7) return false;
  if (EMERGENCY.has(digits)) return true;
  // A country calling code in front ("+1 911", "+44 999", "0034 112") does not make it callable.
  for (let cc = 1; cc <= 3 && cc < digits.length; cc++) if (EMERGENCY.has(digits.slice(cc))) return true;
  return false;
}

export const E164 = /^\+[1-9]\d{6,14}$/;

/** Calling codes of the countries KallyAI calls: US and Canada, the UK, Spain and most of Europe. */
const SUPPORTED_CALLING_CODES = new Set([
  "1", "44", "34", "33", "49", "39", "351", "31", "32", "352", "353", "43", "41", "46", "47", "45", "358",
  "354", "48", "420", "421", "36", "30", "40", "359", "385", "386", "370", "371", "372", "356", "357",
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
