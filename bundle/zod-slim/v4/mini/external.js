// zod mini without `locales` (see ../classic/external.js).
export * from "../../../../node_modules/zod/v4/mini/external.js";
export * as core from "../core/index.js";
export const locales = undefined;
// Neither the compiler nor JSON Schema → zod (~12 KiB) is used in the worker (see ../core/index.js).
export const INVALID = undefined;
export const ZodCompileAsyncError = undefined;
export const ZodCompileUnsupportedError = undefined;
export const compile = undefined;
export const withParser = undefined;
