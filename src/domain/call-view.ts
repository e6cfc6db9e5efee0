import { isFinished } from "../shared/call-status";
import { type CallView, flatSubmission } from "../shared/call-view";
import { iso } from "../shared/time";
import type { CallRow } from "../storage/calls";

export { type CallView, createdAtOf, outcomeOf, viewOfUpstream } from "../shared/call-view";

/** A call the bridge placed, from its row. */
export function viewOfRow(row: CallRow): CallView {
  return {
    id: row.id,
    status: row.status,
    finished: isFinished(row.status),
    highlights: row.highlights,
    next_steps: row.next_steps,
    duration_seconds: row.duration_seconds,
    created_at: iso(row.created_at),
    ended_at: iso(row.ended_at),
    ...flatSubmission(JSON.parse(row.request)),
  };
}
