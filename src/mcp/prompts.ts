import { ErrorCode, type GetPromptResult, type Prompt } from "@modelcontextprotocol/sdk/types.js";
import { ProtocolError } from "./protocol";

/** The seed's "gather call details" step, as a prompt a person can pick in their MCP client. */
export const PROMPTS: Prompt[] = [
  {
    name: "make_a_call",
    title: "Make a phone call",
    description:
      "Walks through what KallyAI needs to know before it calls a business, then places the call and reports the outcome.",
    arguments: [
      {
        name: "request",
        description: "What the call is for, in your words (e.g. 'book a table for 4 at Luigi's tomorrow at 8').",
        required: false,
      },
    ],
  },
];

const STEPS = [
  "Help me make a phone call with KallyAI.",
  "1. Gather the call details from me; ask only for what is missing, and do not invent any:",
  "   - the phone number to call (required);",
  "   - what to accomplish on the call (required);",
  "   - the category: restaurant, clinic, hotel or general (required);",
  "   - for a reservation or appointment: the name to book under, the date (YYYY-MM-DD), the time (HH:MM, 24-hour) and, for a restaurant, the party size;",
  "   - optionally the business's name, the language of the call (en or es) and any flexible time preference.",
  "2. Read the details back to me and wait until I confirm them.",
  "3. Place the call with the place_call tool.",
  "4. Follow it with get_call and wait=25, again while it is still running.",
  "5. Tell me how it went: the status, the highlights and the next steps. Offer the transcript (get_transcript) if I want the details.",
  "Never call emergency or service numbers (911, 112, 999, …): tell me to call them myself.",
];

export function promptMessages(name: string, args: Record<string, string>): GetPromptResult {
  if (name !== "make_a_call")
    throw new ProtocolError(
      ErrorCode.InvalidParams,
      `Unknown prompt ${name}. The prompts are: ${PROMPTS.map((p) => p.name).join(", ")}.`,
    );
  const request = args.request?.trim();
  const text = [...STEPS, ...(request ? ["", `What I want: ${request}`] : [])].join("\n");
  return {
    description: "Gather the call details, confirm, call, report.",
    messages: [{ role: "user", content: { type: "text", text } }],
  };
}
