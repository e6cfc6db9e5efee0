#!/usr/bin/env node
// `npm run docs`: writes the recipe sections of docs/platforms.md from src/shared/recipes.ts, between
// the markers <!-- recipes:SECTION --> and <!-- /recipes:SECTION -->. test/recipes checks the file
// matches, and sends every recipe to the bridge. (Node 24 runs the .ts module directly.)
import { readFileSync, writeFileSync } from "node:fs";
import { DOCS_BASE, renderSection, SECTION_NAMES } from "../src/shared/recipes.ts";

const file = new URL("../docs/platforms.md", import.meta.url);
let doc = readFileSync(file, "utf8");
for (const section of Object.keys(SECTION_NAMES)) {
  const start = `<!-- recipes:${section} -->`;
  const end = `<!-- /recipes:${section} -->`;
  const from = doc.indexOf(start);
  const to = doc.indexOf(end);
  if (from === -1 || to < from) {
    console.error(`docs/platforms.md lacks ${start} … ${end}`);
    process.exit(1);
  }
  doc = `${doc.slice(0, from + start.length)}\n${renderSection(section, DOCS_BASE)}\n${doc.slice(to)}`;
}
writeFileSync(file, doc);
console.log("docs/platforms.md: recipe sections rewritten from src/shared/recipes.ts");
