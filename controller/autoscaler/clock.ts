// The autoscaler never touches global timers: time comes in through this interface so
// tests drive it with the fake clock and production passes systemClock.

/** Opaque timer handle, whatever the clock returns from setTimeout. */
export type TimerHandle = unknown;

/** Time source and one-shot timers; repeating work reschedules itself. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** The real clock: Date.now and Node's timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};
