import { ErrorCode, type Resource, type ResourceTemplate } from "@modelcontextprotocol/sdk/types.js";
import { listCalls, transcript } from "../domain/calls";
import { transcriptText } from "../domain/speech";
import { toApiError } from "../errors";
import { assertScope } from "../http/auth";
import { ProtocolError, RESOURCE_NOT_FOUND } from "./protocol";
import type { ToolContext } from "./tools";

const RECENT_CALLS = 10;

export const RESOURCE_TEMPLATES: ResourceTemplate[] = [
  {
    uriTemplate: "kallyai://calls/{id}",
    name: "call",
    title: "A call",
    description: "One call: status, highlights, next steps and the details it was placed with (JSON, as get_call).",
    mimeType: "application/json",
  },
  {
    uriTemplate: "kallyai://calls/{id}/transcript",
    name: "transcript",
    title: "A call's transcript",
    description: "What was said on the call, one line per turn.",
    mimeType: "text/plain",
  },
];

const CALL_URI = /^kallyai:\/\/calls\/([^/?#]{1,100})(\/transcript)?$/;

/** The user's latest calls, for clients that let a person attach one to a conversation. */
export async function listCallResources({ d, auth }: ToolContext): Promise<Resource[]> {
  if (!auth.scopes.includes("calls:read")) return [];
  const { items } = await listCalls(d, auth.userId, { limit: RECENT_CALLS });
  return items.map((c) => ({
    uri: `kallyai://calls/${c.id}`,
    name: `call ${c.id}`,
    title: `${c.business ?? c.phone ?? "Call"}: ${c.status}${c.created_at ? ` (${c.created_at.slice(0, 16).replace("T", " ")})` : ""}`,
    mimeType: "application/json",
  }));
}

export async function readCallResource({ d, auth, waits }: ToolContext, uri: string) {
  const [, rawId, transcriptPart] = CALL_URI.exec(uri) ?? [];
  if (rawId === undefined)
    throw new ProtocolError(
      RESOURCE_NOT_FOUND,
      `No resource ${uri}. Calls are kallyai://calls/{id} and kallyai://calls/{id}/transcript.`,
    );
  const id = decodeURIComponent(rawId);
  try {
    assertScope(auth, "calls:read");
    if (transcriptPart)
      return [{ uri, mimeType: "text/plain", text: transcriptText((await transcript(d, auth.userId, id)).entries) }];
    return [{ uri, mimeType: "application/json", text: JSON.stringify(await waits.wait(id, 0)) }];
  } catch (err) {
    // Resources have no error result: the bridge's code and message travel as a protocol error.
    const e = toApiError(err);
    throw new ProtocolError(
      e.status === 404 ? RESOURCE_NOT_FOUND : e.status >= 500 ? ErrorCode.InternalError : ErrorCode.InvalidRequest,
      `${e.code}: ${e.message}`,
    );
  }
}
