// Public API of the event side: the CloudEvents NATS binding and loop-prevention hop counts.
export {
  fromNatsMsg,
  HOP_COUNT_EXTENSION,
  hopsOf,
  NATS,
  STRUCTURED_CONTENT_TYPE,
  toNatsHeaders,
  withHop,
  type NatsMessage,
} from "./nats-binding.ts";
export { InvalidCloudEventError } from "./errors.ts";
