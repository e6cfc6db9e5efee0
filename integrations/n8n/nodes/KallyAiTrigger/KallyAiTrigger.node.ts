import {
  type IDataObject,
  type IHookFunctions,
  type INodeType,
  type INodeTypeDescription,
  type IWebhookFunctions,
  type IWebhookResponseData,
  NodeConnectionTypes,
} from "n8n-workflow";
import { bridgeError, bridgeRequest } from "../shared/bridge";
import { verifySignature } from "./signature";

// A REST hook on the bridge (POST/GET/DELETE /v1/webhooks): created when the workflow is activated
// (or the editor listens for a test event), deleted when it is deactivated. Its secret stays in the
// node's static data; every delivery must carry a valid Standard Webhooks signature made with it.

interface Subscription {
  webhookId?: string;
  webhookSecret?: string;
}

const subscriptionOf = (context: IHookFunctions | IWebhookFunctions) =>
  context.getWorkflowStaticData("node") as IDataObject & Subscription;

const hookPath = (id: string) => `/v1/webhooks/${encodeURIComponent(id)}`;

function forget(subscription: Subscription) {
  delete subscription.webhookId;
  delete subscription.webhookSecret;
}

async function subscriptionExists(this: IHookFunctions): Promise<boolean> {
  const subscription = subscriptionOf(this);
  if (!subscription.webhookId) return false;
  const response = await bridgeRequest.call(this, "GET", hookPath(subscription.webhookId));
  if (response.statusCode === 404) {
    forget(subscription);
    return false;
  }
  if (response.statusCode >= 400) throw bridgeError(this.getNode(), response.statusCode, response.body);
  const hook = response.body as { url?: string; events?: string[]; state?: string };
  const current =
    hook.url === this.getNodeWebhookUrl("default") &&
    hook.state === "active" &&
    hook.events?.length === 1 &&
    hook.events[0] === this.getNodeParameter("event") &&
    Boolean(subscription.webhookSecret);
  if (current) return true;
  // Another URL or event, or disabled after days of failures: replace it with a new one.
  await bridgeRequest.call(this, "DELETE", hookPath(subscription.webhookId));
  forget(subscription);
  return false;
}

async function subscribe(this: IHookFunctions): Promise<boolean> {
  const response = await bridgeRequest.call(this, "POST", "/v1/webhooks", {
    url: this.getNodeWebhookUrl("default") ?? "",
    events: [this.getNodeParameter("event") as string],
    description: `n8n: ${this.getWorkflow().name ?? "workflow"} (${this.getNode().name})`.slice(0, 200),
  });
  if (response.statusCode >= 400) throw bridgeError(this.getNode(), response.statusCode, response.body);
  const created = response.body as { id: string; secret: string };
  Object.assign(subscriptionOf(this), { webhookId: created.id, webhookSecret: created.secret });
  return true;
}

async function unsubscribe(this: IHookFunctions): Promise<boolean> {
  const subscription = subscriptionOf(this);
  if (!subscription.webhookId) return true;
  // The bridge answers 200 also for a subscription that is already gone.
  const response = await bridgeRequest.call(this, "DELETE", hookPath(subscription.webhookId));
  if (response.statusCode >= 400) return false;
  forget(subscription);
  return true;
}

export class KallyAiTrigger implements INodeType {
  description: INodeTypeDescription = {
    displayName: "KallyAI Trigger",
    name: "kallyAiTrigger",
    icon: { light: "file:../../icons/kallyai.svg", dark: "file:../../icons/kallyai.dark.svg" },
    group: ["trigger"],
    version: 1,
    subtitle: '={{$parameter["event"]}}',
    description: "Starts the workflow when a KallyAI call finishes",
    defaults: { name: "KallyAI Trigger" },
    inputs: [],
    outputs: [NodeConnectionTypes.Main],
    credentials: [{ name: "kallyAiBridgeApi", required: true }],
    webhooks: [{ name: "default", httpMethod: "POST", responseMode: "onReceived", path: "webhook" }],
    properties: [
      {
        displayName: "Event",
        name: "event",
        type: "options",
        required: true,
        default: "call.completed",
        options: [
          {
            name: "Call Completed",
            value: "call.completed",
            description: "Every call that finished, however it ended (data.status says how)",
          },
          {
            name: "Call Failed",
            value: "call.failed",
            description: "The call did not reach its goal: failed, busy, no answer, voicemail or cancelled",
          },
          { name: "Call Succeeded", value: "call.succeeded", description: "The call reached its goal" },
        ],
        description: "Which calls start the workflow",
      },
    ],
  };

  webhookMethods = {
    default: {
      async checkExists(this: IHookFunctions): Promise<boolean> {
        return await subscriptionExists.call(this);
      },
      async create(this: IHookFunctions): Promise<boolean> {
        return await subscribe.call(this);
      },
      async delete(this: IHookFunctions): Promise<boolean> {
        return await unsubscribe.call(this);
      },
    },
  };

  async webhook(this: IWebhookFunctions): Promise<IWebhookResponseData> {
    const request = this.getRequestObject();
    if (!request.rawBody) await request.readRawBody();
    const headers = this.getHeaderData();
    const header = (name: string) => {
      const value = headers[name];
      return Array.isArray(value) ? value[0] : value;
    };
    const { webhookSecret } = subscriptionOf(this);
    const check = webhookSecret
      ? verifySignature(
          webhookSecret,
          { id: header("webhook-id"), timestamp: header("webhook-timestamp"), signature: header("webhook-signature") },
          request.rawBody,
        )
      : { valid: false as const, reason: "this trigger has no subscription secret; activate the workflow again" };
    if (!check.valid) {
      this.getResponseObject()
        .status(401)
        .json({ error: { code: "invalid_signature", message: `Refused: ${check.reason}.` } });
      return { noWebhookResponse: true };
    }
    // The event exactly as signed: the same object as an item of GET /v1/events.
    const event = JSON.parse(request.rawBody.toString("utf8")) as IDataObject;
    return { workflowData: [this.helpers.returnJsonArray(event)] };
  }
}
