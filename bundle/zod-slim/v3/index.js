// `zod/v3` for the worker bundle, unchanged (the alias of `zod` also catches its subpaths).
export * from "../../../node_modules/zod/v3/index.js";
export { default } from "../../../node_modules/zod/v3/index.js";
