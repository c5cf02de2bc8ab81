// The event dispatcher of one (function, trigger): pulls from its durable consumer without
// hoarding and hands each event to the function (delivery.ts does one message).
//
// Why fetch and not consume(): consume() refills its buffer as messages are *received*, not as
// they are finished, so a slow function would have messages pile up in the client with their
// ack_wait running, out of reach of any other dispatcher. Here each pull asks for exactly the free
// slots (capacity() - in flight - waiting); the next pull is sent when that one ends (all
// received, or `expires` passed on an idle consumer). nats.js re-sends a pull after a reconnect,
// which can bring a few more messages than asked: those wait for a slot (leased with in-progress
// acks), so deliver() never runs more than capacity() at once. A failed pull (server restart,
// consumer missing) is retried with backoff until stop().
import type { Consumer, ConsumerMessages, JsMsg } from "@nats-io/jetstream";
import { processMessage, startLease, type Counters, type Job, type ProcessContext } from "./delivery.ts";
import type { Dispatcher, DispatcherOptions, DispatcherStats, EventsClock, EventsLogger } from "./types.ts";

const DEFAULT_PULL_EXPIRES_MS = 5_000;
const DEFAULT_STOP_TIMEOUT_MS = 10_000;
// While every slot is busy, capacity() is re-read at least this often (it may have grown).
const RECHECK_MS = 1_000;
const MAX_RETRY_MS = 2_000;
const EMPTY_PULL_PAUSE_MS = 250;

const systemClock: EventsClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

const consoleLogger: EventsLogger = {
  info: () => {},
  warn: (message, fields) => console.warn(message, fields ?? ""),
  error: (message, fields) => console.error(message, fields ?? ""),
};

interface State extends ProcessContext {
  waiting: Job[];
  active: Set<Job>;
  stopping: boolean;
  batch?: ConsumerMessages;
  ackWaitMs: number;
  /** Resolves every pending wake() (a slot freed, or stop). */
  wakers: Array<() => void>;
}

/** Starts pulling and delivering at once; failures to reach NATS are retried in the background. */
export function startDispatcher(options: DispatcherOptions): Dispatcher {
  const counters: Counters = { delivered: 0, acked: 0, naked: 0, deadLettered: 0, skipped: 0, replies: 0, replyFailures: 0, deadLetterFailures: 0, pullErrors: 0 };
  const state: State = {
    options, counters, logger: options.logger ?? consoleLogger, clock: options.clock ?? systemClock,
    waiting: [], active: new Set(), stopping: false, ackWaitMs: 30_000, wakers: [],
  };
  const loopDone = pullLoop(state);
  let stopped: Promise<void> | undefined;
  return {
    consumerName: options.consumerName,
    stats: (): DispatcherStats => ({ ...counters, inFlight: state.active.size, waiting: state.waiting.length }),
    stop: () => (stopped ??= stop(state, loopDone)),
  };
}

async function pullLoop(s: State): Promise<void> {
  let consumer: Consumer | undefined;
  let failures = 0;
  let lastError = "";
  while (!s.stopping) {
    try {
      consumer ??= await openConsumer(s);
      const free = s.options.capacity() - s.active.size - s.waiting.length;
      if (free <= 0) await wake(s, RECHECK_MS);
      else if ((await pullBatch(s, consumer, free)) === "empty-early") await wake(s, EMPTY_PULL_PAUSE_MS);
      failures = 0;
      lastError = "";
    } catch (error) {
      if (s.stopping) break;
      const text = (error as Error)?.message ?? String(error);
      if ((error as Error)?.name === "ClosedConnectionError") {
        s.logger.error("the NATS connection is closed; the dispatcher stops pulling", where(s));
        return;
      }
      s.counters.pullErrors++;
      // One line per distinct problem, not one per retry during an outage.
      if (text !== lastError) s.logger.warn("pulling events failed; retrying", { ...where(s), error: text });
      lastError = text;
      if (/consumer (not found|deleted)/i.test(text)) consumer = undefined;
      failures++;
      await wake(s, Math.min(50 * 2 ** failures, MAX_RETRY_MS));
    }
  }
}

async function openConsumer(s: State): Promise<Consumer> {
  const consumer = await s.options.js.consumers.get(s.options.stream, s.options.consumerName);
  // ack_wait sets the in-progress ack period; info(true) is the copy fetched by get().
  s.ackWaitMs = ((await consumer.info(true)).config.ack_wait ?? 30_000_000_000) / 1_000_000;
  return consumer;
}

/** One pull of up to `free` messages; "empty-early" when it ended with nothing well before expiring. */
async function pullBatch(s: State, consumer: Consumer, free: number): Promise<"ok" | "empty-early"> {
  const expires = Math.max(1_000, s.options.pullExpiresMs ?? DEFAULT_PULL_EXPIRES_MS);
  const started = s.clock.now();
  const batch = await consumer.fetch({ max_messages: free, expires });
  s.batch = batch;
  // stop() may have run while fetch() was being set up, before there was a batch to close.
  if (s.stopping) void batch.close();
  let received = 0;
  try {
    for await (const msg of batch) {
      received++;
      admit(s, msg);
    }
  } finally {
    s.batch = undefined;
  }
  // A pull the server ends at once without messages (a status nats.js does not raise) must not
  // turn the loop into a busy spin against the server.
  return received === 0 && s.clock.now() - started < expires / 2 ? "empty-early" : "ok";
}

function admit(s: State, msg: JsMsg): void {
  if (s.stopping) {
    // Received after stop(): hand it straight back rather than hold it for a whole ack_wait.
    nakQuietly(s, msg);
    return;
  }
  s.waiting.push({ msg, controller: new AbortController(), abandoned: false, stopLease: startLease(msg, s.ackWaitMs, s.clock) });
  pump(s);
}

/** Starts waiting jobs while slots are free. */
function pump(s: State): void {
  while (s.waiting.length > 0 && s.active.size < s.options.capacity() && !s.stopping) {
    const job = s.waiting.shift()!;
    s.active.add(job);
    processMessage(s, job)
      .catch((error: unknown) => s.logger.error("processing an event failed", { ...where(s), error: String(error) }))
      .finally(() => {
        job.stopLease();
        s.active.delete(job);
        pump(s);
        wakeAll(s);
      });
  }
}

async function stop(s: State, loopDone: Promise<void>): Promise<void> {
  s.stopping = true;
  void s.batch?.close();
  wakeAll(s);
  const timeoutMs = s.options.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS;
  await within(s, loopDone, timeoutMs);
  for (const job of s.waiting.splice(0)) {
    job.stopLease();
    nakQuietly(s, job.msg);
  }
  const deadline = s.clock.now() + timeoutMs;
  while (s.active.size > 0 && s.clock.now() < deadline) await wake(s, deadline - s.clock.now());
  for (const job of s.active) {
    // Not acked, not naked: if the function is still working on it, an immediate redelivery
    // would run it twice at once; after ack_wait the server redelivers it.
    job.abandoned = true;
    job.stopLease();
    job.controller.abort(new Error("the dispatcher stopped"));
  }
}

function nakQuietly(s: State, msg: JsMsg): void {
  try {
    msg.nak();
    s.counters.naked++;
  } catch {
    // Connection closed: ack_wait will hand it back.
  }
}

/** Resolves after ms, or earlier when a slot frees up or stop() is called; leaves no timer behind. */
function wake(s: State, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      s.clock.clearTimeout(handle);
      const index = s.wakers.indexOf(done);
      if (index >= 0) s.wakers.splice(index, 1);
      resolve();
    };
    const handle = s.clock.setTimeout(done, ms);
    s.wakers.push(done);
  });
}

function wakeAll(s: State): void {
  for (const done of [...s.wakers]) done();
}

/** Waits for `promise`, at most ms. */
async function within(s: State, promise: Promise<unknown>, ms: number): Promise<void> {
  let handle: unknown;
  const timeout = new Promise<void>((resolve) => (handle = s.clock.setTimeout(resolve, ms)));
  await Promise.race([promise, timeout]);
  s.clock.clearTimeout(handle);
}

function where(s: State): Record<string, unknown> {
  return { fn: s.options.fn, consumer: s.options.consumerName, stream: s.options.stream };
}
