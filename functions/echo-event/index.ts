import { defineFunction } from "skiff/runtime";

// Replies with the CloudEvent it received (same id, type, source and data): handy to check
// that events reach a function intact, over HTTP or NATS.
export default defineFunction({
  event(event, ctx) {
    ctx.logger.debug("echo", { id: event.id, type: event.type });
    return event;
  },
});
