import type { CallView } from "../domain/call-view";
import type { Caller } from "../domain/caller";
import { type Deadline, watchCall } from "../domain/calls";
import type { Deps } from "../domain/deps";

/** The waiting one MCP request may do in all, whatever its batch asks for (get_call's wait is ≤ 25 s each). */
export const WAIT_BUDGET_MS = 25_000;

/**
 * The waits of one MCP request. A batch may ask for the same call many times and for many calls
 * with a wait each: every call id gets one poll loop however many ask for it, and the seconds
 * waited come out of one budget for the request. A loop is granted what it asks beyond what it
 * already has, while the budget lasts; once it is spent, a read answers after one look.
 */
export class CallWaits {
  private budgetMs = WAIT_BUDGET_MS;
  private readonly loops = new Map<string, { deadline: Deadline; view: Promise<CallView> }>();

  constructor(
    private readonly d: Deps,
    private readonly caller: Caller,
  ) {}

  /** The call once it has finished or `seconds` have passed (less when the budget runs out). */
  wait(id: string, seconds: number): Promise<CallView> {
    const wanted = Date.now() + seconds * 1000;
    const loop = this.loops.get(id);
    if (loop) {
      loop.deadline.at += this.grant(wanted - loop.deadline.at);
      return loop.view;
    }
    const deadline = { at: Date.now() + this.grant(seconds * 1000) };
    const view = watchCall(this.d, this.caller, id, deadline);
    this.loops.set(id, { deadline, view });
    return view;
  }

  private grant(ms: number): number {
    const granted = Math.max(0, Math.min(ms, this.budgetMs));
    this.budgetMs -= granted;
    return granted;
  }
}
