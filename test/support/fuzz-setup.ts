import { linkedUser, withKey } from "./accounts";
import { json } from "./bridge";
import { placed } from "./calls";
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
  const trigger = await created<{ id: string; url: string }>(
    json(
      "/v1/triggers",
      { name: "fuzz", phone: "+14155551234", task: "Ask whether they have {{value1}} in stock" },
      withKey(user.apiKey),
    ),
  );
  const call = await placed(user.apiKey, { phone: "+14155551234", task: "Ask whether they are open today" });
  const other = await created<{ id: string; api_key: string }>(
    json("/v1/keys", { name: "other", scopes: ["calls:read"] }, withKey(user.apiKey)),
  );
  const token = new URL(trigger.url).pathname.split("/")[2]!;
  return {
    apiKey: user.apiKey,
    readerKey: other.api_key,
    receiverUrl: sink.url,
    token,
    ids: [call.id, trigger.id, webhook.id, other.id, token],
  };
}

async function created<T>(answer: Promise<Response>): Promise<T> {
  const res = await answer;
  if (res.status !== 201) throw new Error(`fuzz setup: creating answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as T;
}
