import {
  type IDataObject,
  type IExecuteSingleFunctions,
  type IHookFunctions,
  type IHttpRequestMethods,
  type IN8nHttpFullResponse,
  type INode,
  type INodeExecutionData,
  type JsonObject,
  NodeApiError,
} from "n8n-workflow";

/** The bridge answers every error as {"error": {"code", "message"}}; the message says what to do. */
interface BridgeErrorBody {
  error?: { code?: unknown; message?: unknown };
}

/** An n8n node error carrying the bridge's error code and message. */
export function bridgeError(node: INode, statusCode: number, body: unknown, itemIndex?: number): NodeApiError {
  const error = (typeof body === "object" && body !== null ? (body as BridgeErrorBody).error : undefined) ?? {};
  const code = typeof error.code === "string" ? error.code : `http_${statusCode}`;
  const message = typeof error.message === "string" ? error.message : `The bridge answered HTTP ${statusCode}.`;
  return new NodeApiError(node, { code, message } as JsonObject, {
    message: `${message} (${code})`,
    description: `KallyAI Bridge answered HTTP ${statusCode} with error code "${code}".`,
    httpCode: String(statusCode),
    itemIndex,
  });
}

/**
 * The first postReceive of every operation. Requests go out with ignoreHttpStatusErrors, so an error
 * answer reaches this point and becomes the bridge's own error instead of n8n's generic one.
 */
export async function throwBridgeErrors(
  this: IExecuteSingleFunctions,
  items: INodeExecutionData[],
  response: IN8nHttpFullResponse,
): Promise<INodeExecutionData[]> {
  if (response.statusCode >= 400)
    throw bridgeError(this.getNode(), response.statusCode, response.body, this.getItemIndex());
  return items;
}

export const CREDENTIAL_TYPE = "kallyAiBridgeApi";

/** One request to the bridge with the credential's URL and key, answering the status and body whatever the status. */
export async function bridgeRequest(
  this: IHookFunctions,
  method: IHttpRequestMethods,
  path: string,
  body?: IDataObject,
): Promise<IN8nHttpFullResponse> {
  const { url } = await this.getCredentials(CREDENTIAL_TYPE);
  return (await this.helpers.httpRequestWithAuthentication.call(this, CREDENTIAL_TYPE, {
    method,
    baseURL: String(url),
    url: path,
    body,
    json: true,
    returnFullResponse: true,
    ignoreHttpStatusErrors: true,
  })) as IN8nHttpFullResponse;
}
