// Bundles the CLI (cli/main.ts and the shared src/ modules it imports) into one executable file,
// dist/kallyai.mjs, for Node. Run by `npm run build:cli`, and by `npm install` through "prepare".
import { chmodSync } from "node:fs";
import { build } from "esbuild";

const outfile = new URL("../dist/kallyai.mjs", import.meta.url).pathname;
await build({
  entryPoints: [new URL("./main.ts", import.meta.url).pathname],
  outfile,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node22",
  legalComments: "none",
  logLevel: "warning",
  banner: { js: "#!/usr/bin/env node" },
});
chmodSync(outfile, 0o755);
