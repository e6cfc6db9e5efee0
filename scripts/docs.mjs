#!/usr/bin/env node
// `npm run docs`: writes the README's recipe sections from src/shared/recipes.ts, between the
// markers <!-- recipes:SECTION --> and <!-- /recipes:SECTION -->. test/recipes checks the README
// matches, and sends every recipe to the bridge. (Node 24 runs the .ts module directly.)
import { readFileSync, writeFileSync } from "node:fs";
import { README_BASE, renderSection, SECTION_NAMES } from "../src/shared/recipes.ts";

const file = new URL("../README.md", import.meta.url);
let readme = readFileSync(file, "utf8");
for (const section of Object.keys(SECTION_NAMES)) {
  const start = `<!-- recipes:${section} -->`;
  const end = `<!-- /recipes:${section} -->`;
  const from = readme.indexOf(start);
  const to = readme.indexOf(end);
  if (from === -1 || to < from) {
    console.error(`README.md lacks ${start} … ${end}`);
    process.exit(1);
  }
  readme = `${readme.slice(0, from + start.length)}\n${renderSection(section, README_BASE)}\n${readme.slice(to)}`;
}
writeFileSync(file, readme);
console.log("README.md: recipe sections rewritten from src/shared/recipes.ts");
