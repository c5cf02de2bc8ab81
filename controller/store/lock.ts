// Per-key serialization: operations on one function run one at a time (read, decide,
// write), while different functions proceed in parallel.

/** Runs tasks one at a time per key, in call order. */
export interface KeyedMutex {
  /** Runs `task` after every earlier task of `key` has settled; resolves with its result. */
  run<T>(key: string, task: () => Promise<T>): Promise<T>;
  /** Resolves once every task queued so far has settled. */
  idle(): Promise<void>;
}

/** A fresh KeyedMutex. */
export function makeKeyedMutex(): KeyedMutex {
  const tails = new Map<string, Promise<unknown>>();
  return {
    run<T>(key: string, task: () => Promise<T>): Promise<T> {
      const previous = tails.get(key) ?? Promise.resolve();
      // A failed task must not block the ones after it, hence then(task, task).
      const result = previous.then(task, task);
      const tail = result.catch(() => undefined);
      tails.set(key, tail);
      void tail.then(() => {
        if (tails.get(key) === tail) tails.delete(key);
      });
      return result;
    },
    async idle(): Promise<void> {
      await Promise.all([...tails.values()]);
    },
  };
}
