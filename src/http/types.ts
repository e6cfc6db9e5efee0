import type { RequestIdVariables } from "hono/request-id";
import type { Authenticated } from "../domain/api-keys";
import type { Bindings } from "../env";

export type AppEnv = { Bindings: Bindings; Variables: RequestIdVariables & { auth: Authenticated } };
