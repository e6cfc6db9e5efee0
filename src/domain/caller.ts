import type { UserRow, VaultRow } from "../storage/accounts";
import type { CallRow } from "../storage/calls";

/**
 * Rows read together with the API key in the request's one D1 round trip (storage/caller.ts).
 * They live as long as the request: nothing here outlives it, so a revoked key or a refreshed
 * token is seen on the next request as before.
 */
export interface Prefetched {
  user: UserRow | null;
  vault: VaultRow | null;
  /** The call the request names (/v1/calls/{id}…), if any. */
  call?: { id: string; row: CallRow | null };
}

/** Whom a domain operation acts for: a user id (cron, sign-in), or an API-key request with its prefetched rows. */
export type Caller = string | { userId: string; prefetched?: Prefetched };

export const userIdOf = (caller: Caller): string => (typeof caller === "string" ? caller : caller.userId);
export const prefetchedOf = (caller: Caller): Prefetched | undefined =>
  typeof caller === "string" ? undefined : caller.prefetched;
