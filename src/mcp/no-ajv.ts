/**
 * Stands in for `ajv` and `ajv-formats` in the worker bundle (wrangler.toml [alias]). The MCP SDK's
 * server imports Ajv only to check elicitation answers; the bridge never elicits and passes its
 * own validator (src/mcp/server.ts), so this is never constructed. Ajv would add ~30 KiB gzipped.
 */
export default class NoAjv {
  constructor() {
    throw new Error("Ajv is not bundled in the bridge's worker; pass a jsonSchemaValidator to the MCP Server.");
  }
}
