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
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
