import type { Bindings } from "../env";
import type { SandboxUser } from "./store";

export type SandboxEnv = { Bindings: Bindings; Variables: { user: SandboxUser } };
