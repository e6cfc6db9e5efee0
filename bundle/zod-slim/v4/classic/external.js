// zod's classic API without `locales`: zod's namespaces re-export every locale (about 250 KiB
// minified), and libraries that pass the `z` namespace around as a value (@hono/zod-openapi's
// extendZodWithOpenApi(z)) make bundlers keep them all. An explicit export shadows a star
// re-export, so nothing here refers to the locales and esbuild drops them. English stays the
// default locale (zod's classic API configures it itself).
export * from "../../../../node_modules/zod/v4/classic/external.js";
export * as core from "../core/index.js";
export const locales = undefined;
// Neither the compiler nor JSON Schema → zod (~12 KiB) is used in the worker (see ../core/index.js).
export const INVALID = undefined;
export const ZodCompileAsyncError = undefined;
export const ZodCompileUnsupportedError = undefined;
export const compile = undefined;
export const withParser = undefined;
export const fromJSONSchema = undefined;
