import type {
  IAuthenticateGeneric,
  ICredentialTestRequest,
  ICredentialType,
  Icon,
  INodeProperties,
} from "n8n-workflow";

/** A bridge's address and one of its API keys (sent as X-API-Key); tested with GET /v1/me. */
export class KallyAiBridgeApi implements ICredentialType {
  name = "kallyAiBridgeApi";

  displayName = "KallyAI Bridge API";

  icon: Icon = { light: "file:../icons/kallyai.svg", dark: "file:../icons/kallyai.dark.svg" };

  documentationUrl = "https://www.npmjs.com/package/n8n-nodes-kallyai#credentials";

  properties: INodeProperties[] = [
    {
      displayName: "Bridge URL",
      name: "url",
      type: "string",
      default: "",
      required: true,
      placeholder: "https://kallyai-bridge.you.workers.dev",
      description: "The address of your KallyAI Bridge, without a path",
    },
    {
      displayName: "API Key",
      name: "apiKey",
      type: "string",
      typeOptions: { password: true },
      default: "",
      required: true,
      description:
        'A bridge API key for n8n alone, with the scopes calls:write, calls:read, webhooks and account:read: in your bridge\'s console (<bridge>/console), Keys → Create a key, named n8n. (Or POST /v1/keys {"name": "n8n"}.) Revoke it there to disconnect n8n.',
    },
  ];

  authenticate: IAuthenticateGeneric = {
    type: "generic",
    properties: { headers: { "X-API-Key": "={{$credentials.apiKey}}" } },
  };

  test: ICredentialTestRequest = {
    request: { baseURL: "={{$credentials.url}}", url: "/v1/me", method: "GET" },
    rules: [
      {
        type: "responseSuccessBody",
        properties: {
          key: "linked",
          value: false,
          message:
            "The key works, but its KallyAI account is not linked to the bridge (or must be linked again): sign in at <bridge>/auth/login, then test again.",
        },
      },
    ],
  };
}
