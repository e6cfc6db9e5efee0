// zod mini without `locales` (see ../classic/external.js).
export * from "../../../../node_modules/zod/v4/mini/external.js";
export * as core from "../core/index.js";
export const locales = undefined;
