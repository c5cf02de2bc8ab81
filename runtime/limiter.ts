// Per-replica admission: at most `concurrency` handlers run at once; up to `queueSize` more
// wait in arrival order. The gateway normally keeps a replica under its limit; this is the
// replica's own guard when something (a direct caller, a burst) sends more.

/** Why a request could not get a slot. */
export type AdmissionRefusal = "queue-full" | "queue-timeout" | "aborted";

interface Waiter {
  resolve(release: () => void): void;
  reject(reason: AdmissionRefusal): void;
}

/** A counting semaphore with a bounded FIFO queue. */
export class ConcurrencyLimiter {
  private running = 0;
  private readonly waiting: Waiter[] = [];

  constructor(readonly concurrency: number, readonly queueSize: number) {}

  /** Requests in handlers now. */
  get inFlight(): number {
    return this.running;
  }
  /** Requests waiting for a slot. */
  get queued(): number {
    return this.waiting.length;
  }

  /**
   * Resolves with a release function once a slot is free. Rejects with "queue-full" at once,
   * or with "queue-timeout"/"aborted" if the signal fires while waiting.
   */
  acquire(signal?: AbortSignal): Promise<() => void> | (() => void) {
    if (this.running < this.concurrency) {
      this.running++;
      return this.makeRelease();
    }
    if (this.waiting.length >= this.queueSize) return Promise.reject("queue-full" satisfies AdmissionRefusal);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { resolve, reject };
      this.waiting.push(waiter);
      signal?.addEventListener(
        "abort",
        () => {
          const index = this.waiting.indexOf(waiter);
          if (index < 0) return;
          this.waiting.splice(index, 1);
          reject(signal.reason instanceof DOMException && signal.reason.name === "TimeoutError" ? "queue-timeout" : "aborted");
        },
        { once: true },
      );
    });
  }

  private makeRelease(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      // Hand the slot straight to the next waiter so a burst cannot overtake the queue.
      if (next) next.resolve(this.makeRelease());
      else this.running--;
    };
  }
}
