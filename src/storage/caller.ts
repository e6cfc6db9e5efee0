import { selectUser, selectVault, type UserRow, type VaultRow } from "./accounts";
import { type ApiKeyRow, selectKey } from "./api-keys";
import { type CallRow, selectCall } from "./calls";

/** What a request made with an API key needs of its caller, read together. */
export interface CallerRows {
  key: ApiKeyRow | null;
  user: UserRow | null;
  vault: VaultRow | null;
  /** Only when a call id was asked for. */
  call?: CallRow | null;
}

/**
 * The key check, the account, its vault row and (for /v1/calls/{id}…) the call row in one
 * `db.batch`: one D1 round trip, one consistent snapshot, nothing kept beyond the request.
 */
export class CallerReads {
  constructor(private readonly db: D1Database) {}

  async read(keyId: string, userId: string, callId?: string): Promise<CallerRows> {
    const statements = [selectKey(this.db, keyId, userId), selectUser(this.db, userId), selectVault(this.db, userId)];
    if (callId !== undefined) statements.push(selectCall(this.db, callId));
    const [key, user, vault, call] = (await this.db.batch(statements)).map((r) => r.results[0] ?? null);
    const rows: CallerRows = {
      key: key as ApiKeyRow | null,
      user: user as UserRow | null,
      vault: vault as VaultRow | null,
    };
    if (callId !== undefined) rows.call = call as CallRow | null;
    return rows;
  }
}
