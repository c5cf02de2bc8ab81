// A keyed work queue in the manner of client-go's: each key (a Function's namespace/name) is
// handled by one worker at a time, adds while it is handled are folded into one more pass,
// and a failed pass is retried with per-key exponential backoff. Reconcilers are level-based,
// so "handle this key again" is all an event needs to say.

/** How the queue retries and how many keys it handles at once. */
export interface WorkQueueOptions {
  /** First retry delay after a failure; doubles per consecutive failure (default 100 ms). */
  baseDelayMs?: number;
  /** Cap of the retry delay (default 30 s). */
  maxDelayMs?: number;
  /** Keys handled at once (default 2). */
  workers?: number;
  /** Called with every failure before its retry is scheduled. */
  onError?(key: string, error: unknown, retryInMs: number): void;
  /** Timer source (tests pass fake timers through vitest instead). */
  setTimer?(fn: () => void, ms: number): { unref?(): void } & object;
  clearTimer?(handle: object): void;
}

/** The retry delay after `failures` consecutive failures (1 = first). */
export function retryDelayMs(failures: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, Math.min(30, failures - 1)));
}

export class WorkQueue {
  private readonly waiting: string[] = [];
  private readonly queued = new Set<string>();
  private readonly active = new Set<string>();
  /** Keys added again while being handled: they go back in line when the pass ends. */
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, object>();
  private readonly idleWaiters: Array<() => void> = [];
  private stopped = false;
  private readonly opts: Required<Pick<WorkQueueOptions, "baseDelayMs" | "maxDelayMs" | "workers">> & WorkQueueOptions;

  constructor(
    private readonly handle: (key: string) => Promise<void>,
    options: WorkQueueOptions = {},
  ) {
    this.opts = { baseDelayMs: 100, maxDelayMs: 30_000, workers: 2, ...options };
  }

  /** Asks for one more pass over `key` (cheap to call often: duplicates fold). */
  add(key: string): void {
    if (this.stopped) return;
    this.cancelTimer(key);
    if (this.active.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.waiting.push(key);
    this.pump();
  }

  /** Adds `key` after `ms` (an earlier add wins; a later addAfter replaces a pending one). */
  addAfter(key: string, ms: number): void {
    if (this.stopped) return;
    this.cancelTimer(key);
    const setTimer = this.opts.setTimer ?? ((fn: () => void, delay: number) => setTimeout(fn, delay));
    const handle = setTimer(() => {
      this.timers.delete(key);
      this.add(key);
    }, ms);
    handle.unref?.();
    this.timers.set(key, handle);
  }

  /** Keys waiting, being handled, or due for a retry. */
  get size(): number {
    return new Set([...this.queued, ...this.active, ...this.timers.keys()]).size;
  }

  /** Resolves once nothing is waiting or being handled (retries scheduled later do not count). */
  idle(): Promise<void> {
    if (this.active.size === 0 && this.waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops taking keys and cancels retries; resolves when the passes running now end. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const key of [...this.timers.keys()]) this.cancelTimer(key);
    this.waiting.length = 0;
    this.queued.clear();
    await this.idle();
  }

  private pump(): void {
    while (!this.stopped && this.active.size < this.opts.workers && this.waiting.length > 0) {
      const key = this.waiting.shift()!;
      this.queued.delete(key);
      this.active.add(key);
      void this.run(key);
    }
    if (this.active.size === 0 && this.waiting.length === 0) {
      for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }

  private async run(key: string): Promise<void> {
    try {
      await this.handle(key);
      this.failures.delete(key);
    } catch (error) {
      const failures = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, failures);
      const delay = retryDelayMs(failures, this.opts.baseDelayMs, this.opts.maxDelayMs);
      this.opts.onError?.(key, error, delay);
      // A newer event supersedes the retry: it will be handled at once below.
      if (!this.dirty.has(key)) this.addAfter(key, delay);
    } finally {
      this.active.delete(key);
      if (this.dirty.delete(key)) this.add(key);
      this.pump();
    }
  }

  private cancelTimer(key: string): void {
    const handle = this.timers.get(key);
    if (handle === undefined) return;
    (this.opts.clearTimer ?? ((h: object) => clearTimeout(h as NodeJS.Timeout)))(handle);
    this.timers.delete(key);
  }
}
