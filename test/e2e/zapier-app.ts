import { createRequire } from "node:module";

/** The Zapier integration (CommonJS, as `zapier push` uploads it) and the Zapier SDK that runs it. */
const require = createRequire(import.meta.url);

export const zapierApp = require("../../integrations/zapier/index.js");
export const { createAppTester } = require("zapier-platform-core") as { createAppTester: (app: unknown) => AppTester };
export const { validateAppDefinition } = require("zapier-platform-schema") as {
  validateAppDefinition: (definition: unknown) => { errors: { property: string; message: string }[] };
};
/** How `zapier validate` and `zapier push` see the app: functions replaced by references. */
const { compileApp, serializeApp } = require("zapier-platform-core/src/tools/schema") as {
  compileApp: (app: unknown) => unknown;
  serializeApp: (app: unknown) => unknown;
};
export const zapierDefinition = () => serializeApp(compileApp(zapierApp));

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AppTester = (method: unknown, bundle: Record<string, unknown>) => Promise<any>;
