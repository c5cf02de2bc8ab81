// Public API of the event side: the CloudEvents NATS binding, the JetStream topology and its
// reconciler, the dispatcher (pull, deliver, ack/nak/dead-letter), dead letters, lag and publishing.
export {
  decodeBinaryEvent,
  fromNatsMsg,
  HOP_COUNT_EXTENSION,
  hopsOf,
  NATS,
  STRUCTURED_CONTENT_TYPE,
  toNatsHeaders,
  withHop,
  type NatsMessage,
} from "./nats-binding.ts";
export {
  DeadLetterError,
  InvalidCloudEventError,
  LagReadError,
  PublishError,
  TopologyError,
  TopologyReconcileError,
} from "./errors.ts";
export { generalizeSubjects, isValidSubject, mergeSubjects, subjectCovers, subjectsOverlap, type MergedSubjects } from "./subjects.ts";
export {
  CONSUMER_PREFIX,
  DLQ_PREFIX,
  DLQ_STREAM,
  EVENTS_STREAM,
  consumerNameOf,
  makeConsumerPlan,
  makeStreamPlans,
  makeTopology,
  subjectOfDlq,
  type ConsumerPlan,
  type EventTopology,
  type RejectedTrigger,
  type StreamPlan,
  type TopologyOptions,
} from "./topology.ts";
export { changedConsumerFields, nextStreamConfig, reconcileTopology, type ReconcileReport } from "./reconcile.ts";
export {
  DLQ_REASONS,
  MAX_HOPS,
  MAX_RETRY_AFTER_MS,
  backoffDelayMs,
  decideOutcome,
  isRetryableStatus,
  type Outcome,
  type OutcomeInput,
} from "./outcome.ts";
export { startDispatcher } from "./dispatcher.ts";
export type {
  DeadLetterSink,
  Deliver,
  DeliveryContext,
  DeliveryResult,
  Dispatcher,
  DispatcherOptions,
  DispatcherStats,
  EventsClock,
  EventsLogger,
  PublishReply,
} from "./types.ts";
export {
  DLQ_HEADERS,
  MAX_DLQ_ERROR_BYTES,
  countDeadLetters,
  encodeTruncated,
  listDeadLetters,
  makeDeadLetter,
  parseDeadLetter,
  publishDeadLetter,
  redriveDeadLetter,
  removeDeadLetter,
  type DeadLetter,
  type DeadLetterInput,
} from "./dead-letter.ts";
export { readLag, startLagPoller, type LagClock, type LagPoller, type LagPollerOptions, type LagSource } from "./lag.ts";
export {
  msgIdOf,
  publishEvent,
  publishMessage,
  STREAM_LOOKUP_TTL_MS,
  StreamLookupCache,
  type MessageOptions,
  type PublishOptions,
  type PublishResult,
} from "./publish.ts";
export {
  encodeBinaryRequest,
  httpDeliver,
  parseReply,
  parseRetryAfter,
  readDeliveryAnswer,
  type BinaryRequest,
  type HeaderSource,
  type HttpDeliverOptions,
} from "./http-deliver.ts";
