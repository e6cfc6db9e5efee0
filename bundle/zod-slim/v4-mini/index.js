// `zod/v4-mini` for the worker bundle: zod mini without its locales (see ../v4/classic/external.js).
import * as z from "../v4/mini/external.js";
export * from "../v4/mini/external.js";
export { z };
