// Written by `npm run schema` (scripts/schema.mjs): the newest file in migrations/.
export const SCHEMA_VERSION = "0013_ifttt.sql";
