// Watching an AbortSignal without adding a listener per watcher. The client's lifetime signal is
// shared by every request, poll, backoff sleep and budget wait of a ServiceClient; one listener each
// put dozens on the same signal under load and Node printed MaxListenersExceededWarning (a false
// leak warning: they were all removed later). Here each signal gets one real listener, which fans
// out to the watchers registered at the time it fires; a watcher is removed by the function returned.

type Watcher = { fire: () => void };

const watchers = new WeakMap<AbortSignal, Set<Watcher>>();

/**
 * Calls `onAbort` once when `signal` aborts, unless the returned function was called first.
 * Like addEventListener, nothing is called for a signal that is already aborted: check
 * `signal.aborted` before watching.
 */
export function watchAbort(signal: AbortSignal | undefined, onAbort: () => void): () => void {
  if (!signal || signal.aborted) return () => {};
  let set = watchers.get(signal);
  if (!set) {
    const fresh = new Set<Watcher>();
    watchers.set(signal, fresh);
    signal.addEventListener(
      "abort",
      () => {
        watchers.delete(signal);
        for (const w of [...fresh]) w.fire();
        fresh.clear();
      },
      { once: true },
    );
    set = fresh;
  }
  // A wrapper per registration: the same callback watched twice is two watchers, as with listeners.
  const watcher: Watcher = { fire: onAbort };
  const owner = set;
  owner.add(watcher);
  return () => {
    owner.delete(watcher);
  };
}
