// `zod/v4` for the worker bundle: the same slim classic API as `zod`.
import * as z4 from "./classic/external.js";
export * from "./classic/external.js";
export { z4 as default, z4 as z };
