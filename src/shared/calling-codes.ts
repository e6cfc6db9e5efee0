/**
 * Calling codes of the countries KallyAI calls: US and Canada, the UK, Spain and most of Europe.
 * Also what scripts/phone-metadata.mjs keeps of libphonenumber's metadata (src/shared/phone-metadata.json).
 */
export const SUPPORTED_CALLING_CODES: readonly string[] = [
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
];

export const SUPPORTED_COUNTRIES_TEXT = "the US, Canada, the UK, Spain and most of Europe";
