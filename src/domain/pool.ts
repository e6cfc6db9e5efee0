/** Upstream (or delivery) requests an invocation may still make. */
export class Budget {
  constructor(public left: number) {}
  take(n = 1) {
    this.left -= n;
  }
  get spent() {
    return this.left <= 0;
  }
}

/** Runs `fn` over `items` with at most `limit` at once (Workers allow 6 open connections). */
export async function mapPool<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  // The workers share one iterator: each takes the next item as it becomes free.
  const queue = items.entries();
  const worker = async () => {
    for (const [i, item] of queue) out[i] = await fn(item);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
