// A manually advanced clock. Only for tests: it lets autoscaler time pass without sleeps.
import type { Clock, TimerHandle } from "./clock.ts";

/** A Clock whose time moves only when advance() is called. */
export interface FakeClock extends Clock {
  /** Moves time forward by `ms`, firing every timer that falls due, in due-time order. */
  advance(ms: number): void;
  /** Number of timers scheduled and not yet fired or cleared. */
  pending(): number;
}

interface Timer {
  id: number;
  dueMs: number;
  fn: () => void;
}

/** A fake clock starting at `startMs`. Only for tests. */
export function makeFakeClock(startMs = 0): FakeClock {
  let nowMs = startMs;
  let nextId = 1;
  const timers = new Map<number, Timer>();

  // Ties fire in scheduling order (ids grow), like Node's timers of equal delay.
  const nextDue = (limitMs: number): Timer | undefined => {
    let best: Timer | undefined;
    for (const t of timers.values()) {
      if (t.dueMs > limitMs) continue;
      if (!best || t.dueMs < best.dueMs || (t.dueMs === best.dueMs && t.id < best.id)) best = t;
    }
    return best;
  };

  return {
    now: () => nowMs,
    setTimeout(fn: () => void, ms: number): TimerHandle {
      const id = nextId++;
      timers.set(id, { id, dueMs: nowMs + Math.max(0, ms), fn });
      return id;
    },
    clearTimeout(handle: TimerHandle): void {
      if (typeof handle === "number") timers.delete(handle);
    },
    advance(ms: number): void {
      const targetMs = nowMs + ms;
      // Re-query after each firing: a timer may schedule another that is due within the step.
      for (let t = nextDue(targetMs); t; t = nextDue(targetMs)) {
        timers.delete(t.id);
        nowMs = t.dueMs;
        t.fn();
      }
      nowMs = targetMs;
    },
    pending: () => timers.size,
  };
}
