import { isStorageFault } from "../errors";

/** Pauses between the tries of storeOrRetry: about half a second in all. */
const PAUSES_MS = [50, 150, 300];

/**
 * Runs a D1 write that must not be lost because what it records cannot be had again: KallyAI
 * rotates refresh tokens, so the tokens a link or a refresh got exist only in this request. A D1
 * failure is tried again a few times (D1's own advice for transient errors); when every try
 * fails, `givenUp()` says what the caller must do instead.
 */
export async function storeOrRetry<T>(write: () => Promise<T>, givenUp: () => Error): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await write();
    } catch (err) {
      if (!isStorageFault(err)) throw err;
      const pause = PAUSES_MS[attempt];
      if (pause === undefined) {
        console.error(
          JSON.stringify({
            level: "error",
            event: "store_given_up",
            error: err instanceof Error ? err.name : typeof err,
          }),
        );
        throw givenUp();
      }
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }
}
