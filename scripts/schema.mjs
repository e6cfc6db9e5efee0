#!/usr/bin/env node
// Writes schema.sql: the whole current schema, for reading and for a fresh database. While the
// migrations only create things it is their concatenation; once one alters a table, edit
// schema.sql by hand instead. test/schema.test.ts checks the two agree either way.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";

const files = readdirSync("migrations").filter((f) => /^\d{4}_.*\.sql$/.test(f)).sort();
const header = `-- KallyAI Bridge: the complete D1 schema (the sum of migrations/${files[0]} … ${files.at(-1)}).
-- Deployed databases are upgraded with \`wrangler d1 migrations apply DB --remote\`, never from this file.
`;
writeFileSync("schema.sql", header + files.map((f) => `\n-- ${f}\n${readFileSync(`migrations/${f}`, "utf8").trim()}\n`).join(""));
console.log(`schema.sql written from ${files.length} migrations`);
