// Bounded concurrency for rollouts: at most `limit` episodes in flight at once. The SDK's sampler
// has its own backpressure (it holds requests when the server says it is busy); this bound keeps
// the client from opening thousands of episodes at once on top of that. Twelve lines did not
// justify a dependency.

/** Runs `fn` on every item with at most `limit` running at once; results in the items' order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  if (!Number.isSafeInteger(limit) || limit < 1)
    throw new RangeError(`limit must be a positive integer, got ${limit}`);
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
