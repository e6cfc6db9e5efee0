#!/usr/bin/env node
// Prints fresh values for the bridge's secrets. Pipe each into `wrangler secret put NAME`.
//   npm run secrets:generate                 # new VAULT_KEYS, API_KEY_SIGNING_KEYS, ADMIN_TOKEN
//   npm run secrets:generate -- --kid k2     # name the new keys (for a rotation; see docs/security.md)
import { randomBytes } from "node:crypto";

const kidFlag = process.argv.indexOf("--kid");
const kid = kidFlag > -1 ? process.argv[kidFlag + 1] : `k${new Date().toISOString().slice(0, 10).replace(/-/g, "")}`;
const b64url = (bytes) => bytes.toString("base64url");

console.log(`VAULT_KEYS=${kid}:${randomBytes(32).toString("base64")}`);
console.log(`API_KEY_SIGNING_KEYS=${JSON.stringify([{ kty: "oct", kid, alg: "HS256", k: b64url(randomBytes(32)) }])}`);
console.log(`ADMIN_TOKEN=${b64url(randomBytes(24))}`);
console.error(
  `\nTo rotate, put the new entry first and keep the old ones after it:\n  VAULT_KEYS="<new kid:key>,<old kid:key>"\n  API_KEY_SIGNING_KEYS='[<new jwk>, <old jwk>]'`,
);
