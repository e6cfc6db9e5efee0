import type { Deps } from "./deps";
import { VaultError } from "./vault";

/**
 * Re-encrypts vault rows still on an old key with the current one, a batch at a time. Safe to run
 * while the bridge serves: a row that changed meanwhile was written with the current key anyway.
 * A row that no longer decrypts (tampered, or its key was dropped) is counted and left alone.
 */
export async function reencryptVault(
  d: Deps,
  batchSize = 100,
): Promise<{ reencrypted: number; failed: number; remaining: number }> {
  const vault = await d.vault();
  let reencrypted = 0;
  let failed = 0;
  for (let after = ""; ; ) {
    const { results } = await d.accounts.vaultRowsNotOnKey(vault.currentKeyId, after, batchSize);
    const last = results.at(-1);
    if (!last) break;
    for (const row of results) {
      try {
        const open = (ciphertext: string) => vault.open(row.user_id, { keyId: row.key_id, ciphertext });
        const refresh = await vault.seal(row.user_id, await open(row.refresh_token));
        const access = row.access_token === null ? null : await vault.seal(row.user_id, await open(row.access_token));
        if (
          await d.accounts.rewrap(row.user_id, row.version, {
            keyId: vault.currentKeyId,
            refreshToken: refresh.ciphertext,
            accessToken: access?.ciphertext ?? null,
          })
        )
          reencrypted++;
      } catch (err) {
        if (!(err instanceof VaultError)) throw err;
        failed++;
      }
    }
    after = last.user_id;
  }
  // Webhook signing secrets and IFTTT keys are sealed with the vault too.
  for (let after = ""; ; ) {
    const { results } = await d.webhooks.notOnKey(vault.currentKeyId, after, batchSize);
    const last = results.at(-1);
    if (!last) break;
    for (const w of results) {
      try {
        const sealed = await vault.seal(
          w.user_id,
          await vault.open(w.user_id, { keyId: w.key_id, ciphertext: w.secret }),
        );
        if (await d.webhooks.rewrap(w.id, { keyId: w.key_id, secret: w.secret }, sealed)) reencrypted++;
      } catch (err) {
        if (!(err instanceof VaultError)) throw err;
        failed++;
      }
    }
    after = last.id;
  }
  return {
    reencrypted,
    failed,
    remaining:
      (await d.accounts.countNotOnKey(vault.currentKeyId)) + (await d.webhooks.countNotOnKey(vault.currentKeyId)),
  };
}
