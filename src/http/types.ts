import type { RequestIdVariables } from "hono/request-id";
import type { Bindings } from "../env";

export type AppEnv = { Bindings: Bindings; Variables: RequestIdVariables };
