#!/usr/bin/env node
// Writes schema.sql (and src/storage/schema-version.ts, the newest migration): the whole current schema, for reading and for a fresh database. While the
// migrations only create things it is their concatenation; once one alters a table, edit
// schema.sql by hand instead. test/schema.test.ts checks the two agree either way.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";

const files = readdirSync("migrations")
  .filter((f) => /^\d{4}_.*\.sql$/.test(f))
  .sort();
const header = `-- KallyAI Bridge: the complete D1 schema (the sum of migrations/${files[0]} … ${files.at(-1)}).
-- Deployed databases are upgraded with \`wrangler d1 migrations apply DB --remote\`, never from this file.
`;
writeFileSync(
  "schema.sql",
  header + files.map((f) => `\n-- ${f}\n${readFileSync(`migrations/${f}`, "utf8").trim()}\n`).join(""),
);
// The newest migration is the schema version this code expects; GET /health compares it with D1's.
writeFileSync(
  "src/storage/schema-version.ts",
  `// Written by \`npm run schema\` (scripts/schema.mjs): the newest file in migrations/.\nexport const SCHEMA_VERSION = ${JSON.stringify(files.at(-1))};\n`,
);
console.log(`schema.sql and src/storage/schema-version.ts written from ${files.length} migrations`);
