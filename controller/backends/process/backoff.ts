// Crash backoff per revision, pure: a crash-looping function waits 100ms, 200ms, 400ms... (capped)
// between starts instead of spinning the CPU, and a replica that stays ready long enough proves
// the revision healthy again, so the next crash starts from the initial delay.

/** Restart delays after crashes. */
export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
  /** A replica ready this long since the last crash resets the count. */
  resetAfterMs: number;
}

/** Default restart policy: 100ms doubling to 10s, reset after 10s of readiness. */
export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 100, maxMs: 10_000, resetAfterMs: 10_000 };

/** A revision's crash history as far as restarts are concerned. */
export interface CrashState {
  /** Consecutive crashes not yet forgiven by a stable replica. */
  failures: number;
  /** No replica of the revision starts before this time. */
  retryAtMs: number;
  lastCrashAtMs?: number;
}

/** The state of a revision that never crashed. */
export const NO_CRASHES: CrashState = Object.freeze({ failures: 0, retryAtMs: 0 });

/** Delay before the next start after `failures` consecutive crashes (0 when none). */
export function backoffDelayMs(failures: number, policy: BackoffPolicy): number {
  if (failures <= 0) return 0;
  // Cap the exponent so 2 ** n never overflows to Infinity on a very long crash loop.
  return Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(failures - 1, 30));
}

/** Readiness history of one replica, for deciding whether the revision proved itself. */
export interface ReadyStreak {
  readyAtMs?: number;
  /** When it stopped being ready (exit or drain); undefined while still ready. */
  endedAtMs?: number;
}

/** Longest time any replica stayed ready since `sinceMs` (readiness that began before it does not count). */
export function longestReadyStreakMs(streaks: ReadyStreak[], nowMs: number, sinceMs: number | undefined): number {
  let longest = 0;
  for (const s of streaks) {
    if (s.readyAtMs === undefined || (sinceMs !== undefined && s.readyAtMs < sinceMs)) continue;
    longest = Math.max(longest, (s.endedAtMs ?? nowMs) - s.readyAtMs);
  }
  return longest;
}

/** The state after a crash at `nowMs`, given the longest ready streak since the previous crash. */
export function recordCrash(state: CrashState, at: { nowMs: number; readyStreakMs: number }, policy: BackoffPolicy): CrashState {
  const forgiven = at.readyStreakMs >= policy.resetAfterMs;
  const failures = (forgiven ? 0 : state.failures) + 1;
  return { failures, retryAtMs: at.nowMs + backoffDelayMs(failures, policy), lastCrashAtMs: at.nowMs };
}
