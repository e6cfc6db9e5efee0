import type { Deps } from "./deps";

/**
 * Re-encrypts vault rows still on an old key with the current one, a batch at a time.
 * Safe to run while the bridge serves: a row that changed meanwhile is left for the next batch.
 */
export async function reencryptVault(d: Deps, batchSize = 100): Promise<{ reencrypted: number; remaining: number }> {
  const vault = await d.vault();
  let reencrypted = 0;
  for (;;) {
    const { results } = await d.accounts.vaultRowsNotOnKey(vault.currentKeyId, batchSize);
    if (results.length === 0) return { reencrypted, remaining: 0 };
    let progressed = false;
    for (const row of results) {
      const open = (ciphertext: string) => vault.open(row.user_id, { keyId: row.key_id, ciphertext });
      const refresh = await vault.seal(row.user_id, await open(row.refresh_token));
      const access = row.access_token === null ? null : await vault.seal(row.user_id, await open(row.access_token));
      if (await d.accounts.rewrap(row.user_id, row.version, { keyId: vault.currentKeyId, refreshToken: refresh.ciphertext, accessToken: access?.ciphertext ?? null })) {
        reencrypted++;
        progressed = true;
      }
    }
    if (!progressed) {
      const left = await d.accounts.vaultRowsNotOnKey(vault.currentKeyId, batchSize);
      return { reencrypted, remaining: left.results.length };
    }
  }
}
