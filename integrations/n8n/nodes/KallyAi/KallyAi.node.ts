import { type INodeType, type INodeTypeDescription, NodeConnectionTypes } from "n8n-workflow";
import { accountDescription } from "./resources/account";
import { callDescription } from "./resources/call";

/** KallyAI through a KallyAI Bridge: declarative, every operation one request to the bridge's REST API. */
export class KallyAi implements INodeType {
  description: INodeTypeDescription = {
    displayName: "KallyAI",
    name: "kallyAi",
    icon: { light: "file:../../icons/kallyai.svg", dark: "file:../../icons/kallyai.dark.svg" },
    group: ["output"],
    version: 1,
    subtitle: '={{$parameter["operation"] + ": " + $parameter["resource"]}}',
    description: "Place AI phone calls with KallyAI and read their outcomes, transcripts and your usage",
    defaults: { name: "KallyAI" },
    usableAsTool: true,
    inputs: [NodeConnectionTypes.Main],
    outputs: [NodeConnectionTypes.Main],
    credentials: [{ name: "kallyAiBridgeApi", required: true }],
    requestDefaults: {
      baseURL: "={{$credentials.url}}",
      headers: { Accept: "application/json", "Content-Type": "application/json" },
      // Error answers reach throwBridgeErrors, which raises the bridge's own code and message.
      ignoreHttpStatusErrors: true,
      json: true,
    },
    properties: [
      {
        displayName: "Resource",
        name: "resource",
        type: "options",
        noDataExpression: true,
        options: [
          { name: "Account", value: "account" },
          { name: "Call", value: "call" },
        ],
        default: "call",
      },
      ...callDescription,
      ...accountDescription,
    ],
  };
}
