// Time-bucketed concurrency averages, the input to the KPA decision. Pure: every
// operation returns a new window, so a decision can be replayed from recorded states.

/** Width of one aggregation bucket: the runner samples once per bucket, like Knative's scraper. */
export const BUCKET_MS = 1000;

/** Share of the stable window that forms the panic window (Knative's 10%). */
export const PANIC_WINDOW_FRACTION = 0.1;

/** Default decision period; the panic window is never shorter than one tick. */
export const DEFAULT_TICK_MS = 2000;

/** One bucket: the mean of the samples recorded within [startMs, startMs + bucketMs). */
export interface Bucket {
  readonly startMs: number;
  readonly sum: number;
  readonly count: number;
}

/** Recent concurrency samples grouped into buckets, oldest first. */
export interface ConcurrencyWindow {
  readonly bucketMs: number;
  /** Buckets older than this span (relative to the newest sample) are dropped. */
  readonly retainMs: number;
  readonly buckets: readonly Bucket[];
  /** Time of the first sample ever recorded; averages never span before it. */
  readonly firstSampleMs: number | null;
  /** Time of the latest sample above zero: the scale-to-zero idle clock starts here. */
  readonly lastActiveMs: number | null;
}

/** An empty window keeping `retainMs` of history (normally the stable window). */
export function makeWindow(opts: { retainMs: number; bucketMs?: number }): ConcurrencyWindow {
  const bucketMs = opts.bucketMs ?? BUCKET_MS;
  if (!(bucketMs > 0)) throw new RangeError(`bucketMs must be > 0, got ${bucketMs}`);
  return { bucketMs, retainMs: opts.retainMs, buckets: [], firstSampleMs: null, lastActiveMs: null };
}

/** The panic window for a stable window: 10% of it, but at least one tick. */
export function panicWindowMs(stableWindowMs: number, tickMs = DEFAULT_TICK_MS): number {
  return Math.max(stableWindowMs * PANIC_WINDOW_FRACTION, tickMs);
}

/** The same samples with a new retention (after the stable window changed). */
export function withRetention(w: ConcurrencyWindow, retainMs: number): ConcurrencyWindow {
  return { ...w, retainMs, buckets: prune(w.buckets, w.bucketMs, retainMs, newestStart(w)) };
}

/** Adds one concurrency sample taken at `atMs`; buckets past the retention are dropped. */
export function recordSample(w: ConcurrencyWindow, atMs: number, concurrency: number): ConcurrencyWindow {
  // A negative or NaN reading is a caller bug; count it as idle rather than poison the mean.
  const value = Number.isFinite(concurrency) && concurrency > 0 ? concurrency : 0;
  const startMs = bucketStart(atMs, w.bucketMs);
  const buckets = insertSample(w.buckets, startMs, value);
  const newest = Math.max(startMs, newestStart(w) ?? startMs);
  return {
    ...w,
    buckets: prune(buckets, w.bucketMs, w.retainMs, newest),
    firstSampleMs: w.firstSampleMs === null ? atMs : Math.min(w.firstSampleMs, atMs),
    lastActiveMs: value > 0 ? Math.max(w.lastActiveMs ?? atMs, atMs) : w.lastActiveMs,
  };
}

/**
 * Mean concurrency over the `spanMs` ending at `nowMs` (the bucket holding nowMs included).
 * Buckets without samples count as zero, as in Knative: silence means no load. The span
 * never reaches before the first sample, so a fresh window is not diluted by the time
 * before anything was measured (after a restart that would read as a sudden idle).
 */
export function windowAverage(w: ConcurrencyWindow, nowMs: number, spanMs: number): number {
  if (w.firstSampleMs === null) return 0;
  const b = w.bucketMs;
  const nowStart = bucketStart(nowMs, b);
  const slots = Math.max(1, Math.ceil(spanMs / b));
  const fromStart = Math.max(nowStart - (slots - 1) * b, bucketStart(w.firstSampleMs, b));
  if (fromStart > nowStart) return 0;
  let total = 0;
  for (const bucket of w.buckets) {
    if (bucket.startMs >= fromStart && bucket.startMs <= nowStart) total += bucket.sum / bucket.count;
  }
  return total / ((nowStart - fromStart) / b + 1);
}

function bucketStart(atMs: number, bucketMs: number): number {
  return Math.floor(atMs / bucketMs) * bucketMs;
}

function newestStart(w: ConcurrencyWindow): number | null {
  return w.buckets.at(-1)?.startMs ?? null;
}

// Keeps buckets sorted by start; samples normally arrive in order so this is an append.
function insertSample(buckets: readonly Bucket[], startMs: number, value: number): Bucket[] {
  const i = buckets.findIndex((b) => b.startMs >= startMs);
  if (i === -1) return [...buckets, { startMs, sum: value, count: 1 }];
  const existing = buckets[i]!;
  const next = [...buckets];
  if (existing.startMs === startMs) {
    next[i] = { startMs, sum: existing.sum + value, count: existing.count + 1 };
  } else {
    next.splice(i, 0, { startMs, sum: value, count: 1 });
  }
  return next;
}

function prune(buckets: readonly Bucket[], bucketMs: number, retainMs: number, newest: number | null): Bucket[] {
  if (newest === null) return [...buckets];
  // Keep exactly the buckets a stable-window average ending at the newest bucket can read.
  const oldestKept = newest - Math.max(0, Math.ceil(retainMs / bucketMs) - 1) * bucketMs;
  return buckets.filter((b) => b.startMs >= oldestKept);
}
