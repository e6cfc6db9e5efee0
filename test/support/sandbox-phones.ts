import {
  BLOCKED_SUFFIX,
  FAULT_BY_SUFFIX,
  type Fault,
  OUTCOME_BY_SUFFIX,
  TRANSCRIPT_SHAPE_BY_SUFFIX,
  type TranscriptShape,
} from "../../src/sandbox/scenarios";

/**
 * What a sandbox number makes the sandbox do, by name: an outcome (`"no_answer"`, `"never"`…), a
 * transcript shape (`"bare_list"`…), a fault (`"fault:500"`, `"fault:hang"`…), `"blocked"`, or
 * `"success"` (any other number). The numbers themselves live once, in src/sandbox/scenarios.ts.
 */
export type SandboxScenario = "success" | "blocked" | TranscriptShape | `fault:${Fault}` | OutcomeName;
type OutcomeName = "no_answer" | "busy" | "failed" | "voicemail" | "never" | "terminated";

const invert = (table: Record<string, string>, prefix = "") =>
  Object.fromEntries(Object.entries(table).map(([suffix, name]) => [`${prefix}${name}`, suffix]));

const SUFFIX_OF: Record<string, string> = {
  success: "1234",
  blocked: BLOCKED_SUFFIX,
  ...invert(OUTCOME_BY_SUFFIX),
  ...invert(TRANSCRIPT_SHAPE_BY_SUFFIX),
  ...invert(FAULT_BY_SUFFIX, "fault:"),
};

/** The US sandbox number (+1 415 555 XXXX) that plays `scenario`. */
export function sandboxPhone(scenario: SandboxScenario): string {
  const suffix = SUFFIX_OF[scenario];
  if (!suffix) throw new Error(`No sandbox number plays "${scenario}"; see src/sandbox/scenarios.ts.`);
  return `+1415555${suffix}`;
}
