import { statusText } from "./output";
import type { CallView, Target } from "./targets/types";

/** How long --wait follows a call (KALLYAI_WAIT_SECONDS overrides); a call that never ends is given up on. */
const DEFAULT_MAX_WAIT_S = 30 * 60;
const POLL_MS = 2_000;
const LONG_POLL_S = 25;

/**
 * Follows a call until it ends. The bridge holds each request until the call ends (?wait=25);
 * KallyAI is asked every 2 s. People see each change of status on stderr.
 */
export async function waitForOutcome(
  target: Target,
  first: CallView,
  quiet: boolean,
): Promise<{ call: CallView; gaveUp: boolean }> {
  const maxWait =
    Number(process.env.KALLYAI_WAIT_SECONDS) > 0 ? Number(process.env.KALLYAI_WAIT_SECONDS) : DEFAULT_MAX_WAIT_S;
  const started = Date.now();
  const deadline = started + maxWait * 1000;
  const progress = (call: CallView) => {
    if (!quiet) process.stderr.write(`  ${statusText(call.status)} (${Math.round((Date.now() - started) / 1000)} s)\n`);
  };
  const onInterrupt = () => {
    process.stderr.write(
      `\nStopped waiting. The call goes on; follow it with: kallyai --call-info ${first.id} --wait\n`,
    );
    process.exit(130);
  };
  process.once("SIGINT", onInterrupt);
  try {
    let call = first;
    progress(call);
    while (!call.finished) {
      const left = (deadline - Date.now()) / 1000;
      if (left <= 0) return { call, gaveUp: true };
      let next: CallView;
      if (target.kind === "bridge") {
        next = await target.getCall(call.id, Math.max(1, Math.min(LONG_POLL_S, Math.ceil(left))));
      } else {
        await new Promise((r) => setTimeout(r, Math.min(POLL_MS, left * 1000)));
        next = await target.getCall(call.id);
      }
      if (next.status !== call.status) progress(next);
      call = next;
    }
    return { call, gaveUp: false };
  } finally {
    process.off("SIGINT", onInterrupt);
  }
}

/** A non-terminal stderr (a log, a pipe) gets one progress line this often instead of a line rewritten in place. */
const PLAIN_PROGRESS_S = 5;

/**
 * While KallyAI holds the request that places a call (it answers once the call has ended, as its
 * own CLI waits for), a progress line on stderr: rewritten in place each second on a terminal,
 * one line every 5 s otherwise; none with --json.
 */
export async function whilePlacing<T>(work: Promise<T>, what: string, quiet: boolean): Promise<T> {
  if (quiet) return work;
  const started = Date.now();
  const tty = Boolean(process.stderr.isTTY);
  const seconds = () => Math.round((Date.now() - started) / 1000);
  process.stderr.write(`Calling ${what}; KallyAI answers once the call has ended…\n`);
  const timer = setInterval(() => {
    const s = seconds();
    if (tty) process.stderr.write(`\r  on the call: ${s} s`);
    else if (s % PLAIN_PROGRESS_S === 0) process.stderr.write(`  on the call: ${s} s\n`);
  }, 1000);
  const onInterrupt = () => {
    process.stderr.write(
      "\nStopped waiting. The call goes on at KallyAI; find it with kallyai --history once it has ended.\n",
    );
    process.exit(130);
  };
  process.once("SIGINT", onInterrupt);
  try {
    return await work;
  } finally {
    clearInterval(timer);
    process.off("SIGINT", onInterrupt);
    if (tty) process.stderr.write(`\r  on the call: ${seconds()} s\n`);
  }
}
