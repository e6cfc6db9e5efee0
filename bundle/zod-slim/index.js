// `zod` for the worker bundle (wrangler.toml [alias]): zod itself minus its locales, see v4/classic/external.js.
import * as z from "./v4/classic/external.js";
export * from "./v4/classic/external.js";
export { z, z as default };
