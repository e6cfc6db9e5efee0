#!/usr/bin/env node
"use strict";

// `npx zapier-platform …` in this folder runs this file: npx prefers a bin of the package it stands
// in over one of its dependencies. Every command goes to Zapier's CLI unchanged, except `test`.
// Zapier's `test` first posts the app definition to zapier.com for its style checks, so offline it
// fails before any test runs. Here `test` runs the same local schema check (`validate
// --without-style`) and then the tests (`test --skip-validate`). Zapier's online checks stay one
// command away: `npx zapier-platform validate`.
const { spawnSync } = require("node:child_process");
const { dirname, join } = require("node:path");

const cliPackage = require.resolve("zapier-platform-cli/package.json");
const cli = join(dirname(cliPackage), require(cliPackage).bin["zapier-platform"]);

/** Runs Zapier's CLI with these arguments and answers its exit code. */
const zapier = (args) => spawnSync(process.execPath, [cli, ...args], { stdio: "inherit" }).status ?? 1;

const [command, ...rest] = process.argv.slice(2);
if (command === "test" && !rest.includes("--skip-validate")) {
  const validated = zapier(["validate", "--without-style"]);
  if (validated !== 0) process.exit(validated);
  console.log("(Zapier's online style checks were skipped; run `npx zapier-platform validate` when online.)");
  process.exit(zapier(["test", "--skip-validate", ...rest]));
}
process.exit(zapier(process.argv.slice(2)));
