// The KPA decision as a pure function of (spec, observations, metrics, state, now). The
// runner owns timers and I/O; everything here is replayable in a table test.
import type { ScaleSpec } from "../../spec/types.ts";
import { type ConcurrencyWindow, DEFAULT_TICK_MS, panicWindowMs, windowAverage } from "./window.ts";

/** Share of `target` each replica is run at, leaving headroom for bursts (Knative's 70%). */
export const TARGET_UTILIZATION = 0.7;
/** Scale-down hysteresis: a smaller count must run this far below the scale-up threshold. */
export const SCALE_DOWN_DEADBAND = 0.1;
/** Most a single decision may multiply the ready count by (from at least 1). */
export const MAX_SCALE_UP_RATE = 1000;
/** Most a single decision may divide the current desired count by. */
export const MAX_SCALE_DOWN_RATE = 2;
/** Panic starts when the panic-window desire reaches this multiple of ready replicas. */
export const PANIC_THRESHOLD = 2;

/** Knobs with Knative defaults; tests and operators may override any of them. */
export interface AutoscalerTuning {
  utilization: number;
  deadband: number;
  /** A scale-down waits until no higher desire was seen for this long (default: panic window). */
  scaleDownDelayMs: number;
  tickMs: number;
  maxScaleUpRate: number;
  maxScaleDownRate: number;
  panicThreshold: number;
}

/** One recorded pre-delay desire, kept for the scale-down delay's windowed max. */
export interface DesireSample {
  readonly atMs: number;
  readonly desired: number;
}

/** What the decision carries from one tick to the next; owned by the caller, never mutated. */
export interface AutoscalerState {
  /** When the current panic began; null when stable. */
  readonly panicSinceMs: number | null;
  /** Last decision at which the panic condition held; panic ends a stable window after it. */
  readonly lastPanicMs: number | null;
  /** Highest count reached in this panic: a panic never scales down below it. */
  readonly panicMaxReplicas: number;
  /** Last time anything was in flight or queued (samples or extra demand). */
  readonly lastActiveMs: number;
  readonly recentDesires: readonly DesireSample[];
}

/** Input of one decision. */
export interface DecideInput {
  spec: ScaleSpec;
  observed: { readyReplicas: number; currentDesired: number };
  metrics: ConcurrencyWindow;
  /** Demand not yet in flight (e.g. an event backlog), treated as additional concurrency. */
  extraDemand?: number;
  state: AutoscalerState;
  nowMs: number;
  tuning?: Partial<AutoscalerTuning>;
}

/** Result of one decision: the count to apply, the next state and why. */
export interface ScaleDecision {
  desired: number;
  /** The desired count this decision started from. */
  from: number;
  state: AutoscalerState;
  /** Short human explanation shown by `skiff describe`. */
  reason: string;
  mode: "stable" | "panic";
  stableConcurrency: number;
  panicConcurrency: number;
}

/**
 * A fresh state. Like Knative, an autoscaler (re)starting with more than one ready replica
 * starts in panic: it has no metric history yet, and panic forbids scaling down until a
 * stable window of real samples exists.
 */
export function makeAutoscalerState(nowMs: number, readyReplicas = 0): AutoscalerState {
  const panicking = readyReplicas > 1;
  return {
    panicSinceMs: panicking ? nowMs : null,
    lastPanicMs: panicking ? nowMs : null,
    panicMaxReplicas: panicking ? readyReplicas : 0,
    // Deploying counts as activity, so a new function is not reaped before its first request.
    lastActiveMs: nowMs,
    recentDesires: [],
  };
}

/** Resolves tuning defaults for a spec; the default scale-down delay is the panic window. */
export function resolveTuning(spec: ScaleSpec, tuning: Partial<AutoscalerTuning> = {}): AutoscalerTuning {
  const tickMs = tuning.tickMs ?? DEFAULT_TICK_MS;
  const t: AutoscalerTuning = {
    utilization: TARGET_UTILIZATION,
    deadband: SCALE_DOWN_DEADBAND,
    scaleDownDelayMs: panicWindowMs(spec.windowMs, tickMs),
    maxScaleUpRate: MAX_SCALE_UP_RATE,
    maxScaleDownRate: MAX_SCALE_DOWN_RATE,
    panicThreshold: PANIC_THRESHOLD,
    ...tuning,
    tickMs,
  };
  if (!(t.utilization > 0 && t.utilization <= 1)) throw new RangeError(`utilization must be in (0, 1], got ${t.utilization}`);
  if (!(t.deadband >= 0 && t.deadband < 1)) throw new RangeError(`deadband must be in [0, 1), got ${t.deadband}`);
  if (!(perReplicaTarget(spec, t) > 0)) throw new RangeError(`scale target must be > 0, got ${spec.target}`);
  return t;
}

interface Load {
  stable: number;
  panic: number;
  panicWindowMs: number;
  extra: number;
  lastActiveMs: number;
}

/**
 * Decides the replica count for one tick. Phases: observe the stable and panic averages
 * (plus extra demand); decide zero (idle long enough, or at zero with no demand); else
 * update panic, pick the panic or deadbanded stable desire, rate-limit it, apply the
 * scale-down delay, clamp to [min, max] and never below one.
 */
export function decideScale(input: DecideInput): ScaleDecision {
  const t = resolveTuning(input.spec, input.tuning);
  const load = observeLoad(input, t);
  const base: AutoscalerState = { ...input.state, lastActiveMs: load.lastActiveMs };
  return decideIdle(input, load, base) ?? decideActive(input, load, base, t);
}

function observeLoad(input: DecideInput, t: AutoscalerTuning): Load {
  const { metrics, nowMs, spec } = input;
  const extra = Math.max(0, input.extraDemand ?? 0) || 0;
  const panicMs = panicWindowMs(spec.windowMs, t.tickMs);
  const lastActiveMs = Math.max(input.state.lastActiveMs, metrics.lastActiveMs ?? -Infinity, extra > 0 ? nowMs : -Infinity);
  return {
    stable: windowAverage(metrics, nowMs, spec.windowMs) + extra,
    panic: windowAverage(metrics, nowMs, panicMs) + extra,
    panicWindowMs: panicMs,
    extra,
    lastActiveMs,
  };
}

// Zero is decided apart from the rate limits: it is gated by observed silence instead, and
// a function with nothing in flight or queued loses nothing when all its replicas go at once.
// Silence also ends a panic: the burst that caused it is provably over.
function decideIdle(input: DecideInput, load: Load, base: AutoscalerState): ScaleDecision | null {
  const { spec, nowMs } = input;
  const from = input.observed.currentDesired;
  if (spec.min > 0 || load.panic > 0) return null;
  const idleMs = nowMs - load.lastActiveMs;
  if (from > 0 && idleMs < spec.scaleToZeroAfterMs) return null;
  const reason = from === 0 ? "idle: at zero" : `idle for ${seconds(idleMs)}: to zero`;
  const state: AutoscalerState = { ...base, panicSinceMs: null, lastPanicMs: null, panicMaxReplicas: 0, recentDesires: [] };
  return { desired: 0, from, state, reason, mode: "stable", stableConcurrency: load.stable, panicConcurrency: load.panic };
}

function decideActive(input: DecideInput, load: Load, base: AutoscalerState, t: AutoscalerTuning): ScaleDecision {
  const { spec, nowMs, observed } = input;
  const from = observed.currentDesired;
  const perReplica = perReplicaTarget(spec, t);
  const stableWant = ceilCount(load.stable / perReplica);
  const panicWant = ceilCount(load.panic / perReplica);
  const panic = nextPanic(base, panicWant, observed.readyReplicas, nowMs, spec.windowMs, t);
  const wanted = panic.active
    ? Math.max(stableWant, panicWant, panic.maxReplicas, from)
    : withDeadband(stableWant, load.stable, perReplica, from, t.deadband);
  const limited = rateLimit(wanted, observed, t);
  const recentDesires = [...base.recentDesires.filter((d) => d.atMs > nowMs - t.scaleDownDelayMs), { atMs: nowMs, desired: limited }];
  const delayed = Math.max(...recentDesires.map((d) => d.desired));
  // Not idle long enough (or demand at zero): never zero here, whatever min says.
  const desired = Math.max(1, clampToSpec(delayed, spec));
  const state: AutoscalerState = {
    ...base,
    panicSinceMs: panic.active ? panic.sinceMs : null,
    lastPanicMs: panic.active ? panic.lastMs : null,
    panicMaxReplicas: panic.active ? Math.max(panic.maxReplicas, desired) : 0,
    recentDesires,
  };
  const mode = panic.active ? "panic" : "stable";
  const reason = explain({ mode, load, from, desired, stableWant, spec, endedPanic: panic.ended });
  return { desired, from, state, reason, mode, stableConcurrency: load.stable, panicConcurrency: load.panic };
}

interface PanicStep {
  active: boolean;
  ended: boolean;
  sinceMs: number;
  lastMs: number;
  maxReplicas: number;
}

// Enter when the short window alone wants >= threshold x the ready count; stay while that
// keeps holding, and leave a full stable window after it last held, by when the burst is
// part of the stable average and the stable desire alone keeps enough replicas.
function nextPanic(s: AutoscalerState, panicWant: number, ready: number, nowMs: number, windowMs: number, t: AutoscalerTuning): PanicStep {
  const over = panicWant > 0 && panicWant >= t.panicThreshold * Math.max(1, ready);
  const was = s.panicSinceMs !== null;
  if (over) {
    return { active: true, ended: false, sinceMs: s.panicSinceMs ?? nowMs, lastMs: nowMs, maxReplicas: s.panicMaxReplicas };
  }
  if (was && nowMs - (s.lastPanicMs ?? nowMs) < windowMs) {
    return { active: true, ended: false, sinceMs: s.panicSinceMs ?? nowMs, lastMs: s.lastPanicMs ?? nowMs, maxReplicas: s.panicMaxReplicas };
  }
  return { active: false, ended: was, sinceMs: 0, lastMs: 0, maxReplicas: 0 };
}

/**
 * Hysteresis, part one (the deadband). Scale up as soon as the stable desire exceeds the
 * current count, but scale down only to the smallest count that would still run each
 * replica `deadband` below the scale-up threshold. The up and down thresholds for n
 * replicas are then n*T and n*T*(1-deadband) (T = target x utilization), so a load that
 * wobbles by less than deadband x T around a boundary can cross at most one of them and
 * the count cannot flap. Part two is the scale-down delay in decideActive: the result is
 * the largest desire of the last scaleDownDelayMs, so a dip must last before it counts.
 */
function withDeadband(stableWant: number, stableLoad: number, perReplica: number, from: number, deadband: number): number {
  if (stableWant >= from) return stableWant;
  return Math.min(from, ceilCount(stableLoad / (perReplica * (1 - deadband))));
}

// Up: at most maxScaleUpRate x ready (ready taken as at least 1, so zero can grow), never
// forcing a cut. Down: never below ceil(current / maxScaleDownRate) in one decision.
function rateLimit(wanted: number, observed: DecideInput["observed"], t: AutoscalerTuning): number {
  const from = observed.currentDesired;
  const upper = Math.max(from, Math.ceil(t.maxScaleUpRate * Math.max(1, observed.readyReplicas)));
  const lower = Math.ceil(from / t.maxScaleDownRate);
  return Math.min(upper, Math.max(lower, wanted));
}

// max <= 0 means unbounded, as Knative's max-scale 0.
function clampToSpec(n: number, spec: ScaleSpec): number {
  const max = spec.max > 0 ? spec.max : Infinity;
  return Math.min(max, Math.max(spec.min, n));
}

// A target above the hard per-replica limit could never be reached (Knative uses the min too).
function perReplicaTarget(spec: ScaleSpec, t: AutoscalerTuning): number {
  const target = spec.concurrency > 0 ? Math.min(spec.target, spec.concurrency) : spec.target;
  return target * t.utilization;
}

// Averages of identical samples drift in the last bits (35/7 may read 5.000000000001),
// which a bare ceil would turn into one replica too many.
function ceilCount(x: number): number {
  return Math.max(0, Math.ceil(x - 1e-9));
}

interface ExplainInput {
  mode: "stable" | "panic";
  load: Load;
  from: number;
  desired: number;
  stableWant: number;
  spec: ScaleSpec;
  endedPanic: boolean;
}

function explain(e: ExplainInput): string {
  const change = e.desired === e.from ? `holding ${e.desired}` : `${e.from} -> ${e.desired}`;
  // From zero the stable average is still ~0 (one busy second in a long window): say what woke it.
  const head =
    e.from === 0 && e.desired > 0
      ? `from zero: ${num(e.load.panic)} waiting over the last ${seconds(e.load.panicWindowMs)}, ${change}`
      : e.mode === "panic"
        ? `panic: ${num(e.load.panic)} in flight over ${seconds(e.load.panicWindowMs)}, ${change}`
        : `${e.endedPanic ? "panic over; " : ""}stable: ${num(e.load.stable)} avg over ${seconds(e.spec.windowMs)}, ${change}`;
  const notes: string[] = [];
  if (e.load.extra > 0) notes.push(`backlog ${num(e.load.extra)}`);
  if (e.mode === "stable" && e.stableWant !== e.desired) notes.push(`wants ${e.stableWant}`);
  if (e.desired === e.spec.min && e.stableWant < e.spec.min) notes.push(`min ${e.spec.min}`);
  if (e.spec.max > 0 && e.desired === e.spec.max && e.stableWant > e.spec.max) notes.push(`max ${e.spec.max}`);
  return notes.length > 0 ? `${head} (${notes.join(", ")})` : head;
}

function num(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toFixed(1);
}

function seconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))}s`;
}
