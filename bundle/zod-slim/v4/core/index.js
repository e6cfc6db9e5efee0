// zod's core without `locales` (see ../classic/external.js).
export * from "../../../../node_modules/zod/v4/core/index.js";
export const locales = undefined;
