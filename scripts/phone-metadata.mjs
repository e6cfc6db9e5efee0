#!/usr/bin/env node
// `npm run phone-metadata`: writes src/shared/phone-metadata.json, libphonenumber-js's "min"
// metadata cut down to the countries of the calling codes KallyAI calls (src/shared/calling-codes.ts),
// plus the list of every other calling code: about 6 KiB gzipped in the worker instead of 19.
// Numbers of other countries still read as E.164 and are refused as an unsupported country
// (src/shared/phone.ts); an unassigned calling code is an invalid number, as before. Rerun after upgrading
// libphonenumber-js; test/phone.test.ts fails until you do. (Node 24 runs the .ts module directly.)
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { SUPPORTED_CALLING_CODES } from "../src/shared/calling-codes.ts";

function cutMetadata(full, callingCodes) {
  const country_calling_codes = {};
  const countries = {};
  for (const code of callingCodes) {
    const regions = full.country_calling_codes[code];
    if (!regions) throw new Error(`libphonenumber-js has no calling code ${code}`);
    country_calling_codes[code] = regions;
    for (const region of regions) countries[region] = full.countries[region];
  }
  const others = [...Object.keys(full.country_calling_codes), ...Object.keys(full.nonGeographic ?? {})];
  const other_calling_codes = [...new Set(others)].filter((code) => !callingCodes.includes(code)).sort();
  return { version: full.version, country_calling_codes, countries, other_calling_codes };
}

const require = createRequire(import.meta.url);
const full = JSON.parse(readFileSync(require.resolve("libphonenumber-js/metadata.min.json"), "utf8"));
const out = new URL("../src/shared/phone-metadata.json", import.meta.url);
writeFileSync(out, `${JSON.stringify(cutMetadata(full, [...SUPPORTED_CALLING_CODES].sort()))}\n`);
console.log("src/shared/phone-metadata.json: written from libphonenumber-js/metadata.min.json");
