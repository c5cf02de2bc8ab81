// Test helper only: drives decideScale through simulated time with instant replicas
// (ready = desired), so table tests can state loads as functions of time.
import type { ScaleSpec } from "../../spec/types.ts";
import { type AutoscalerState, type AutoscalerTuning, type ScaleDecision, decideScale, makeAutoscalerState } from "./decide.ts";
import { BUCKET_MS, DEFAULT_TICK_MS, makeWindow, recordSample } from "./window.ts";

/** A scale spec with test-friendly defaults (target 10, 60s window, 30s to zero). */
export function makeTestSpec(overrides: Partial<ScaleSpec> = {}): ScaleSpec {
  return { min: 0, max: 0, concurrency: 100, target: 10, windowMs: 60_000, scaleToZeroAfterMs: 30_000, ...overrides };
}

/** One simulated decision, with the state it produced. */
export interface SimStep extends ScaleDecision {
  atMs: number;
}

/** A simulation: a load over time, sampled every second, decided every tick from t=0. */
export interface SimInput {
  spec: ScaleSpec;
  /** Concurrency in flight at time t (ms since start). */
  load: (tMs: number) => number;
  extra?: (tMs: number) => number;
  startReplicas: number;
  durationMs: number;
  tuning?: Partial<AutoscalerTuning>;
  state?: AutoscalerState;
}

/** Runs the simulation and returns every decision in order. */
export function simulate(input: SimInput): SimStep[] {
  const tickMs = input.tuning?.tickMs ?? DEFAULT_TICK_MS;
  let window = makeWindow({ retainMs: input.spec.windowMs });
  let state = input.state ?? makeAutoscalerState(0);
  let replicas = input.startReplicas;
  const steps: SimStep[] = [];
  for (let t = 0; t <= input.durationMs; t += BUCKET_MS) {
    window = recordSample(window, t, input.load(t));
    if (t === 0 || t % tickMs !== 0) continue;
    const d = decideScale({
      spec: input.spec,
      observed: { readyReplicas: replicas, currentDesired: replicas },
      metrics: window,
      extraDemand: input.extra?.(t) ?? 0,
      state,
      nowMs: t,
      tuning: input.tuning,
    });
    state = d.state;
    replicas = d.desired;
    steps.push({ ...d, atMs: t });
  }
  return steps;
}

/** How many times the count changed direction (up then down, or down then up). */
export function countReversals(counts: readonly number[]): number {
  let reversals = 0;
  let lastDirection = 0;
  for (let i = 1; i < counts.length; i++) {
    const direction = Math.sign(counts[i]! - counts[i - 1]!);
    if (direction === 0) continue;
    if (lastDirection !== 0 && direction !== lastDirection) reversals++;
    lastDirection = direction;
  }
  return reversals;
}

/** Number of decisions that changed the count. */
export function countChanges(counts: readonly number[]): number {
  let changes = 0;
  for (let i = 1; i < counts.length; i++) if (counts[i] !== counts[i - 1]) changes++;
  return changes;
}
