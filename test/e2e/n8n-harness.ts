import { randomUUID } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { ensureInstalled, run } from "./package-install";

// The n8n nodes of integrations/n8n run by n8n's own engine, without the n8n server: n8n-core's
// WorkflowExecute (the declarative RoutingNode, expressions, httpRequestWithAuthentication) runs the
// KallyAI node; its HookContext and WebhookContext run the trigger's checkExists/create/delete and
// its webhook(), with a loopback HTTP server in place of n8n's webhook endpoint. What the n8n server
// adds (database, editor, queue) is not exercised. The harness itself supplies what n8n's CLI
// package would: credentials (decrypted, applied as the credential's `authenticate` says) and the
// webhook server's request object (rawBody, body, headers).

export const PACKAGE_DIR = resolve(import.meta.dirname, "../../integrations/n8n");
const requireFromPackage = createRequire(join(PACKAGE_DIR, "package.json"));

/** n8n's classes and objects, loaded at run time from the package's node_modules (not the root's). */
type Any = any;

export interface BridgeCredentials {
  url: string;
  apiKey: string;
}

export interface NodeRun {
  items: Record<string, unknown>[];
  error?: { message: string; description?: string | null; httpCode?: string | null };
}

export interface Delivery {
  status: number;
  items: Record<string, unknown>[];
}

/**
 * The package's own devDependencies (n8n's node CLI, n8n-workflow, n8n-core). Its .npmrc sets
 * ignore-scripts: n8n's lint plugin has a preinstall that only pnpm passes, and nothing here needs a
 * build step.
 */
export const ensurePackageInstalled = () => ensureInstalled(PACKAGE_DIR);

/** Runs n8n's node CLI (`n8n-node build`, `n8n-node lint`) in the package, as its npm scripts do. */
export const n8nNode = (command: "build" | "lint") =>
  run(join(PACKAGE_DIR, "node_modules", ".bin", "n8n-node"), [command], PACKAGE_DIR);

/** Loads n8n-workflow, n8n-core and the built package (dist/) exactly as n8n would require them. */
export function loadN8n() {
  // n8n-core keeps its instance settings under N8N_USER_FOLDER; a throwaway one per test run.
  const userFolder = mkdtempSync(join(tmpdir(), "kallyai-n8n-"));
  process.env.N8N_USER_FOLDER = userFolder;
  // n8n's logger would print every node error the tests provoke on purpose, stack and all.
  process.env.N8N_LOG_LEVEL = "silent";
  const workflowLib = requireFromPackage("n8n-workflow") as Any;
  const core = requireFromPackage("n8n-core") as Any;
  const built = (path: string) => requireFromPackage(join(PACKAGE_DIR, "dist", path)) as Any;
  const packageJson = requireFromPackage("./package.json") as { n8n: { nodes: string[]; credentials: string[] } };
  const nodeClasses = packageJson.n8n.nodes.map((p) => Object.values(built(p.replace(/^dist\//, "")))[0] as Any);
  const credentialClasses = packageJson.n8n.credentials.map(
    (p) => Object.values(built(p.replace(/^dist\//, "")))[0] as Any,
  );
  return { workflowLib, core, nodeClasses, credentialClasses, userFolder };
}

type Loaded = ReturnType<typeof loadN8n>;

/** n8n's node type registry, holding this package's nodes under their package-qualified names. */
function nodeTypesOf(loaded: Loaded, extra: Record<string, Any> = {}) {
  const byName = new Map<string, Any>(Object.entries(extra));
  for (const NodeClass of loaded.nodeClasses) {
    const nodeType = new NodeClass();
    byName.set(`n8n-nodes-kallyai.${nodeType.description.name}`, nodeType);
  }
  const get = (name: string) => {
    const nodeType = byName.get(name);
    if (!nodeType) throw new Error(`unknown node type ${name}`);
    return nodeType;
  };
  return { getByName: get, getByNameAndVersion: get, getKnownTypes: () => ({}) };
}

/** What n8n's CLI CredentialsHelper does for one credential type: decrypt, authenticate, describe. */
function credentialsHelperOf(loaded: Loaded, credentials: () => BridgeCredentials) {
  const types = new Map<string, Any>(loaded.credentialClasses.map((C: Any) => [new C().name, new C()]));
  const typeOf = (name: string) => {
    const type = types.get(name);
    if (!type) throw new Error(`unknown credential type ${name}`);
    return type;
  };
  return {
    getParentTypes: () => [],
    isCredentialUsableByNode: () => true,
    getCredentialsProperties: (name: string) => typeOf(name).properties,
    getDecrypted: async () => ({ ...credentials() }),
    getCredentials: async () => {
      throw new Error("the harness hands out decrypted credentials only");
    },
    updateCredentials: async () => undefined,
    updateCredentialsOauthTokenData: async () => undefined,
    preAuthentication: async () => undefined,
    runPreAuthentication: async () => undefined,
    // As n8n's CredentialsHelper.authenticate applies an IAuthenticateGeneric: every key and value an
    // expression over $credentials, merged into the request's headers/qs/body/auth.
    authenticate: async (decrypted: Any, typeName: string, request: Any, workflow: Any, node: Any) => {
      const { authenticate } = typeOf(typeName);
      if (typeof authenticate !== "object") throw new Error(`${typeName} has no generic authenticate`);
      const resolveValue = (value: unknown) =>
        workflow.expression.getSimpleParameterValue(
          node,
          value,
          "internal",
          { $credentials: decrypted },
          undefined,
          "",
        );
      for (const [target, entries] of Object.entries(
        authenticate.properties as Record<string, Record<string, unknown>>,
      )) {
        request[target] ??= {};
        for (const [key, value] of Object.entries(entries)) request[target][resolveValue(key)] = resolveValue(value);
      }
      return request;
    },
  };
}

/** IWorkflowExecuteAdditionalData: what n8n hands every node context, reduced to what these nodes use. */
function additionalDataOf(loaded: Loaded, credentials: () => BridgeCredentials, webhookBaseUrl: string) {
  const { core } = loaded;
  return {
    credentialsHelper: credentialsHelperOf(loaded, credentials),
    executionId: randomUUID(),
    currentNodeExecutionIndex: 0,
    restApiUrl: "http://127.0.0.1/rest",
    instanceBaseUrl: "http://127.0.0.1/",
    formBaseUrl: "http://127.0.0.1/form",
    formWaitingBaseUrl: "http://127.0.0.1/form-waiting",
    formTestBaseUrl: "http://127.0.0.1/form-test",
    webhookBaseUrl,
    webhookWaitingBaseUrl: `${webhookBaseUrl}-waiting`,
    webhookTestBaseUrl: `${webhookBaseUrl}-test`,
    mcpBaseUrl: "http://127.0.0.1/mcp",
    mcpTestBaseUrl: "http://127.0.0.1/mcp-test",
    variables: {},
    externalSecretsProxy: new core.ExternalSecretsProxy(),
    executeWorkflow: async () => {
      throw new Error("sub-workflows are not part of this harness");
    },
    getRunExecutionData: async () => undefined,
    getRuntimeCredential: async () => undefined,
    logAiEvent: () => undefined,
    startRunnerTask: async () => {
      throw new Error("task runners are not part of this harness");
    },
  };
}

const NODE_BASE = {
  id: "node",
  typeVersion: 1,
  position: [0, 0],
  credentials: { kallyAiBridgeApi: { id: "1", name: "KallyAI Bridge (harness)" } },
};

function workflowOf(loaded: Loaded, node: Any, extraTypes: Record<string, Any> = {}) {
  const { Workflow } = loaded.workflowLib;
  return new Workflow({
    id: "harness",
    name: "KallyAI harness",
    nodes: [node],
    connections: {},
    active: false,
    nodeTypes: nodeTypesOf(loaded, extraTypes),
    staticData: {},
    settings: { timezone: "Europe/Madrid", executionOrder: "v1" },
  });
}

/** Runs one node (its parameters as a workflow's JSON holds them) through n8n's WorkflowExecute. */
async function execute(
  loaded: Loaded,
  credentials: BridgeCredentials,
  node: Any,
  extraTypes: Record<string, Any> = {},
) {
  const workflow = workflowOf(loaded, node, extraTypes);
  const additionalData: Any = additionalDataOf(loaded, () => credentials, "http://127.0.0.1/webhook");
  additionalData.hooks = new loaded.core.ExecutionLifecycleHooks("manual", additionalData.executionId, {
    id: workflow.id,
    name: workflow.name,
    nodes: [node],
    connections: {},
    active: false,
    activeVersionId: null,
    isArchived: false,
    createdAt: new Date(),
    updatedAt: new Date(),
  });
  const result = await new loaded.core.WorkflowExecute(additionalData, "manual").run({
    workflow,
    startNode: workflow.getNode(node.name),
  });
  const task = result.data.resultData.runData[node.name]?.[0];
  const error = task?.error ?? result.data.resultData.error;
  const items = (task?.data?.main?.[0] ?? []).map((item: { json: Record<string, unknown> }) => item.json);
  return error
    ? { items, error: { message: error.message, description: error.description, httpCode: error.httpCode } }
    : { items };
}

/** Runs the KallyAI node with these parameters. */
export function runNode(loaded: Loaded, credentials: BridgeCredentials, parameters: Record<string, unknown>) {
  const node = { ...NODE_BASE, name: "KallyAI", type: "n8n-nodes-kallyai.kallyAi", parameters };
  return execute(loaded, credentials, node) as Promise<NodeRun>;
}

/**
 * A credential's "Test" button, as n8n's CredentialsTester does it: the credential's test request
 * sent by a throwaway declarative node, then its rules applied to the answer.
 */
export async function testCredentials(loaded: Loaded, credentials: BridgeCredentials) {
  const credentialType = new loaded.credentialClasses[0]();
  const tester = {
    description: {
      displayName: "Credential test",
      name: "credentialTest",
      group: ["transform"],
      version: 1,
      defaults: {},
      inputs: ["main"],
      outputs: ["main"],
      properties: [],
      credentials: [{ name: credentialType.name, required: true }],
      requestDefaults: credentialType.test.request,
    },
  };
  const node = { ...NODE_BASE, name: "Credential test", type: "credentialTest", parameters: {} };
  const outcome = await execute(loaded, credentials, node, { credentialTest: tester });
  if (outcome.error) return { status: "Error", message: outcome.error.message };
  for (const rule of credentialType.test.rules ?? []) {
    if (rule.type === "responseSuccessBody" && outcome.items[0]?.[rule.properties.key] === rule.properties.value)
      return { status: "Error", message: rule.properties.message as string };
  }
  return { status: "OK", message: "Connection tested successfully" };
}

/**
 * What n8n's webhook server makes of a POST: the raw body read (its rawBodyReader) and parsed, and
 * the express-style request and response a webhook() works with.
 */
async function expressLike(req: IncomingMessage, res: ServerResponse) {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const rawBody = Buffer.concat(chunks);
  const request: Any = Object.assign(req, {
    rawBody,
    readRawBody: async () => undefined,
    body: rawBody.length ? JSON.parse(rawBody.toString("utf8")) : {},
    query: {},
    params: {},
  });
  const response: Any = Object.assign(res, {
    status: (code: number) => {
      res.statusCode = code;
      return response;
    },
    json: (body: unknown) => {
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify(body));
      return response;
    },
  });
  return { request, response };
}

/**
 * A KallyAI Trigger as an active workflow holds it: its webhook methods run through n8n-core's
 * HookContext, and a loopback server passes each POST to its webhook() through a WebhookContext.
 */
export async function startTrigger(loaded: Loaded, credentials: BridgeCredentials, event: string) {
  const received: Delivery[] = [];
  const server: Server = createServer((req, res) => {
    void deliver(req, res).catch((error: Error) => {
      res.writeHead(500, { "content-type": "text/plain" }).end(String(error.message));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const node = {
    ...NODE_BASE,
    name: "KallyAI Trigger",
    type: "n8n-nodes-kallyai.kallyAiTrigger",
    webhookId: "5d0c8b9e-2f4a-4e61-8c3b-7a1d9e2f4c60",
    parameters: { event },
  };
  const workflow = workflowOf(loaded, node);
  const additionalData: Any = additionalDataOf(loaded, () => credentials, `${origin}/webhook`);
  const nodeType = workflow.nodeTypes.getByNameAndVersion(node.type, 1);
  const description = nodeType.description.webhooks[0];
  // IWebhookData, as n8n's WebhookService builds it for an active workflow's trigger node.
  const webhookData = {
    httpMethod: description.httpMethod,
    node: node.name,
    path: description.path,
    webhookDescription: description,
    workflowId: workflow.id,
    workflowExecuteAdditionalData: additionalData,
    webhookId: node.webhookId,
    isTest: false,
  };
  const hookContext = () =>
    new loaded.core.HookContext(
      workflow,
      workflow.getNode(node.name),
      additionalData,
      "trigger",
      "activate",
      webhookData,
    );
  const hook = (method: "checkExists" | "create" | "delete") =>
    nodeType.webhookMethods.default[method].call(hookContext()) as Promise<boolean>;

  async function deliver(req: IncomingMessage, res: ServerResponse) {
    const { request, response } = await expressLike(req, res);
    const context = new loaded.core.WebhookContext(
      workflow,
      workflow.getNode(node.name),
      { ...additionalData, httpRequest: request, httpResponse: response },
      "trigger",
      webhookData,
      [],
      null,
    );
    // Unless the node answered itself (a refusal), n8n answers 200 and runs the workflow with its output.
    const answer = await nodeType.webhook.call(context);
    const items = (answer.workflowData?.[0] ?? []).map((item: { json: Record<string, unknown> }) => item.json);
    if (!answer.noWebhookResponse) res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}');
    received.push({ status: res.statusCode, items });
  }

  return {
    url: hookContext().getNodeWebhookUrl("default") as string,
    received,
    staticData: () => workflow.getStaticData("node", workflow.getNode(node.name)) as Record<string, unknown>,
    checkExists: () => hook("checkExists"),
    create: () => hook("create"),
    delete: () => hook("delete"),
    stop: () => new Promise((r) => server.close(r)),
  };
}
