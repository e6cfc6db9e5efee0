import type { INodeProperties } from "n8n-workflow";
import { throwBridgeErrors } from "../../shared/bridge";

// The KallyAI account behind the key: GET /v1/usage and GET /v1/subscription (scope account:read).

export const accountDescription: INodeProperties[] = [
  {
    displayName: "Operation",
    name: "operation",
    type: "options",
    noDataExpression: true,
    displayOptions: { show: { resource: ["account"] } },
    options: [
      {
        name: "Get Subscription",
        value: "subscription",
        action: "Get the subscription",
        description: "Get the KallyAI plan, its status and renewal",
        routing: {
          request: { method: "GET", url: "/v1/subscription" },
          output: { postReceive: [throwBridgeErrors] },
        },
      },
      {
        name: "Get Usage",
        value: "usage",
        action: "Get the usage",
        description: "Get the minutes and calls allocated, used and remaining this period",
        routing: { request: { method: "GET", url: "/v1/usage" }, output: { postReceive: [throwBridgeErrors] } },
      },
    ],
    default: "usage",
  },
];
