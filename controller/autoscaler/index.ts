// Public API of the KPA autoscaler: the pure decision, its metric window and the runner.
export {
  type AutoscalerState,
  type AutoscalerTuning,
  type DecideInput,
  type DesireSample,
  type ScaleDecision,
  MAX_SCALE_DOWN_RATE,
  MAX_SCALE_UP_RATE,
  PANIC_THRESHOLD,
  SCALE_DOWN_DEADBAND,
  TARGET_UTILIZATION,
  decideScale,
  makeAutoscalerState,
  resolveTuning,
} from "./decide.ts";
export {
  type Bucket,
  type ConcurrencyWindow,
  BUCKET_MS,
  DEFAULT_TICK_MS,
  PANIC_WINDOW_FRACTION,
  makeWindow,
  panicWindowMs,
  recordSample,
  windowAverage,
  withRetention,
} from "./window.ts";
export { type Autoscaler, type AutoscalerDecision, type AutoscalerOptions, HISTORY_LIMIT, startAutoscaler } from "./runner.ts";
export { type Clock, type TimerHandle, systemClock } from "./clock.ts";
export { AutoscalerTickError, ScaleApplyError } from "./errors.ts";
// makeFakeClock is deliberately not re-exported: tests import it from ./fake-clock.ts.
