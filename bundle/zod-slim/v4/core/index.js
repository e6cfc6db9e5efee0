// zod's core without `locales` (see ../classic/external.js).
export * from "../../../../node_modules/zod/v4/core/index.js";
export const locales = undefined;
// zod 4.6's schema compiler (z.compile, ~31 KiB minified): nothing in the worker compiles a schema,
// but `z.core` is a namespace kept whole as a value; these shadow its exports so esbuild drops it.
export const INVALID = undefined;
export const ZodCompileAsyncError = undefined;
export const ZodCompileUnsupportedError = undefined;
export const compile = undefined;
export const withParser = undefined;
export const compileFn = undefined;
