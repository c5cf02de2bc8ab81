// The thin shell around decideScale: owns the sampling and decision timers, the metric
// window and the decision state, and pushes results out through injected callbacks.
import type { ScaleSpec } from "../../spec/types.ts";
import { type Clock, type TimerHandle, systemClock } from "./clock.ts";
import { type AutoscalerState, type AutoscalerTuning, type ScaleDecision, decideScale, makeAutoscalerState } from "./decide.ts";
import { AutoscalerTickError, ScaleApplyError } from "./errors.ts";
import { BUCKET_MS, type ConcurrencyWindow, DEFAULT_TICK_MS, makeWindow, panicWindowMs, recordSample, withRetention } from "./window.ts";

/** How many notable decisions history() keeps. */
export const HISTORY_LIMIT = 20;

/** A decision as reported by the runner: the pure result plus when and why it ran. */
export interface AutoscalerDecision extends Omit<ScaleDecision, "state"> {
  atMs: number;
  trigger: "tick" | "poke";
}

/** Callbacks and settings of one function's autoscaler. */
export interface AutoscalerOptions {
  spec: ScaleSpec;
  /** Function name, used in error messages. */
  name?: string;
  clock?: Clock;
  tickMs?: number;
  /** Sampling period of readConcurrency; one sample per metric bucket. */
  sampleMs?: number;
  tuning?: Partial<Omit<AutoscalerTuning, "tickMs">>;
  /** Requests in flight plus queued, right now, across all replicas. */
  readConcurrency(): number;
  /** Demand not yet in flight (e.g. an event backlog). */
  readExtraDemand?(): number;
  readReplicas(): { ready: number; desired: number };
  /** Called only when the decision differs from the current desired count. */
  applyDesired(n: number, decision: AutoscalerDecision): void | Promise<void>;
  /** Every decision, including the ones that change nothing. */
  onDecision?(d: AutoscalerDecision): void;
  /** Failures of a tick or of applyDesired; default: console.error. */
  onError?(err: Error): void;
}

/** A running autoscaler. */
export interface Autoscaler {
  /** Decides now instead of at the next tick (a request arrived at zero replicas). */
  poke(): void;
  /** Pushes a concurrency sample taken now, in addition to the runner's own sampling. */
  record(concurrency: number): void;
  /** Clears all timers; later pokes and records are ignored. */
  stop(): void;
  /** Uses a new scale spec from the next decision on, keeping metric history. */
  updateSpec(spec: ScaleSpec): void;
  /** The last HISTORY_LIMIT decisions that changed the count or the mode, oldest first. */
  history(): AutoscalerDecision[];
}

/** Starts sampling every second and deciding every tickMs; returns the control handle. */
export function startAutoscaler(opts: AutoscalerOptions): Autoscaler {
  const loop = makeLoop(opts);
  const samplerTimer = every(loop.clock, opts.sampleMs ?? BUCKET_MS, () => sample(loop));
  const tickTimer = every(loop.clock, loop.tickMs, () => decide(loop, "tick"));
  return {
    poke: () => decide(loop, "poke"),
    record: (concurrency) => record(loop, concurrency),
    stop(): void {
      loop.stopped = true;
      samplerTimer.stop();
      tickTimer.stop();
    },
    updateSpec(next: ScaleSpec): void {
      loop.spec = next;
      loop.window = withRetention(loop.window, retentionMs(next, loop.tickMs));
    },
    history: () => [...loop.history],
  };
}

// Everything one runner owns. Only this module mutates it, and only from timer callbacks
// or the handle's methods, which never run concurrently on Node's single thread.
interface Loop {
  readonly opts: AutoscalerOptions;
  readonly clock: Clock;
  readonly tickMs: number;
  readonly name: string;
  readonly onError: (err: Error) => void;
  spec: ScaleSpec;
  window: ConcurrencyWindow;
  state: AutoscalerState;
  lastMode: "stable" | "panic";
  readonly history: AutoscalerDecision[];
  stopped: boolean;
}

function makeLoop(opts: AutoscalerOptions): Loop {
  const clock = opts.clock ?? systemClock;
  const tickMs = opts.tickMs ?? DEFAULT_TICK_MS;
  const state = makeAutoscalerState(clock.now(), safeReady(opts));
  return {
    opts,
    clock,
    tickMs,
    name: opts.name ?? "function",
    onError: opts.onError ?? ((err: Error) => console.error(err)),
    spec: opts.spec,
    window: makeWindow({ retainMs: retentionMs(opts.spec, tickMs) }),
    state,
    lastMode: state.panicSinceMs === null ? "stable" : "panic",
    history: [],
    stopped: false,
  };
}

function record(loop: Loop, concurrency: number): void {
  if (!loop.stopped) loop.window = recordSample(loop.window, loop.clock.now(), concurrency);
}

function sample(loop: Loop): void {
  const value = attempt(loop, "read concurrency", () => loop.opts.readConcurrency());
  if (value !== undefined) record(loop, value);
}

function decide(loop: Loop, trigger: AutoscalerDecision["trigger"]): void {
  if (loop.stopped) return;
  // Sample first so the bucket holding "now" is measured, not read as an idle second.
  sample(loop);
  const nowMs = loop.clock.now();
  const { opts, spec, window, state, tickMs } = loop;
  const result = attempt(loop, "decide", () => {
    const replicas = opts.readReplicas();
    const extraDemand = opts.readExtraDemand?.() ?? 0;
    const observed = { readyReplicas: replicas.ready, currentDesired: replicas.desired };
    return decideScale({ spec, observed, metrics: window, extraDemand, state, nowMs, tuning: { ...opts.tuning, tickMs } });
  });
  if (result === undefined) return;
  const { state: next, ...rest } = result;
  loop.state = next;
  const decision: AutoscalerDecision = { ...rest, atMs: nowMs, trigger };
  remember(loop, decision);
  opts.onDecision?.(decision);
  if (decision.desired !== decision.from) apply(loop, decision);
}

// History is for `skiff describe`: a tick that holds the count says nothing new, so only
// changes of count or mode are kept, or twenty entries would cover just forty seconds.
function remember(loop: Loop, d: AutoscalerDecision): void {
  if (d.desired !== d.from || d.mode !== loop.lastMode) {
    loop.history.push(d);
    if (loop.history.length > HISTORY_LIMIT) loop.history.splice(0, loop.history.length - HISTORY_LIMIT);
  }
  loop.lastMode = d.mode;
}

// The window must cover the longer of the two averages it answers.
function retentionMs(spec: ScaleSpec, tickMs: number): number {
  return Math.max(spec.windowMs, panicWindowMs(spec.windowMs, tickMs));
}

function safeReady(opts: AutoscalerOptions): number {
  try {
    return opts.readReplicas().ready;
  } catch {
    return 0; // The first tick reports the failure; starting stable is the safe default.
  }
}

// Synchronous throws and rejected promises both end up in onError; neither escapes, so a
// failing backend cannot stop the loop, and the next tick retries because counts differ.
function apply(loop: Loop, d: AutoscalerDecision): void {
  const fail = (cause: unknown): void => loop.onError(new ScaleApplyError(loop.name, d.desired, { cause }));
  try {
    const pending = loop.opts.applyDesired(d.desired, d);
    if (pending && typeof pending.then === "function") pending.then(undefined, fail);
  } catch (err) {
    fail(err);
  }
}

function attempt<T>(loop: Loop, phase: string, fn: () => T): T | undefined {
  try {
    return fn();
  } catch (cause) {
    loop.onError(new AutoscalerTickError(loop.name, phase, { cause }));
    return undefined;
  }
}

// Repeats on a fixed grid (start + k*period) so slow callbacks or late timers don't drift.
function every(clock: Clock, periodMs: number, fn: () => void): { stop(): void } {
  let dueMs = clock.now() + periodMs;
  let handle: TimerHandle | undefined;
  let stopped = false;
  const schedule = (): void => {
    handle = clock.setTimeout(run, Math.max(0, dueMs - clock.now()));
  };
  const run = (): void => {
    if (stopped) return;
    dueMs += periodMs;
    schedule();
    fn();
  };
  schedule();
  return {
    stop(): void {
      stopped = true;
      if (handle !== undefined) clock.clearTimeout(handle);
    },
  };
}
