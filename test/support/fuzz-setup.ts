import { linkedUser, withKey } from "./accounts";
import { json } from "./bridge";
import type { FuzzContext } from "./fuzz";
import { receiver, subscribe } from "./webhooks";

/**
 * A linked account with something behind each id: a call, a trigger, a webhook (whose receiver
 * answers 200) and a second key, so generated requests reach past "not found".
 */
export async function fuzzAccount(): Promise<FuzzContext & { token: string; readerKey: string }> {
  const user = await linkedUser();
  const sink = receiver();
  const webhook = await subscribe(user.apiKey, { url: sink.url, events: ["call.completed"] });
  const trigger = (await (await json("/v1/triggers", { name: "fuzz", phone: "+14155551234", task: "Ask whether they have {{value1}} in stock" }, withKey(user.apiKey))).json()) as { id: string; url: string };
  const call = (await (await json("/v1/calls", { phone: "+14155551234", task: "Ask whether they are open today" }, withKey(user.apiKey))).json()) as { id: string };
  const other = (await (await json("/v1/keys", { name: "other", scopes: ["calls:read"] }, withKey(user.apiKey))).json()) as { id: string; api_key: string };
  const token = new URL(trigger.url).pathname.split("/")[2]!;
  return { apiKey: user.apiKey, readerKey: other.api_key, receiverUrl: sink.url, token, ids: [call.id, trigger.id, webhook.id, other.id, token] };
}
