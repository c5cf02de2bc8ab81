// Shared setup of the events suites: a NATS connection to the suite's own nats-server, specs,
// events, and dispatchers wired the way the platform wires them (replies and dead letters through
// JetStream), with the function's side (deliver) injected by each test.
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection, type Subscription } from "@nats-io/transport-node";
import { CloudEvent } from "cloudevents";
import {
  fromNatsMsg,
  makeTopology,
  NATS,
  publishDeadLetter,
  publishEvent,
  reconcileTopology,
  startDispatcher,
  type ConsumerPlan,
  type Deliver,
  type Dispatcher,
  type DispatcherOptions,
  type EventTopology,
  type TopologyOptions,
} from "../controller/events/index.ts";
import { validateFunctionSpec } from "../spec/index.ts";
import type { FunctionSpec } from "../spec/types.ts";
import { startNatsServer, type NatsServer } from "./harness/nats-server.ts";

/** A suite's server and clients. */
export interface EventsEnv {
  server: NatsServer;
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  close(): Promise<void>;
}

/** Starts nats-server and connects a client that reconnects quickly and forever (restart tests rely on it). */
export async function startEventsEnv(): Promise<EventsEnv> {
  const server = await startNatsServer();
  const nc = await connect({ servers: server.url, maxReconnectAttempts: -1, reconnectTimeWait: 50 });
  const jsm = await jetstreamManager(nc);
  return {
    server, nc, jsm, js: jetstream(nc),
    close: async () => {
      await nc.close();
      await server.stop();
    },
  };
}

/** A validated function spec with these triggers. */
export function fnSpec(name: string, events: unknown[], extra: Record<string, unknown> = {}): { fn: string; spec: FunctionSpec } {
  return { fn: name, spec: validateFunctionSpec({ name, events, ...extra }) };
}

/** Reconciles the topology of these functions and returns it. */
export async function applyTopology(env: EventsEnv, functions: Array<{ fn: string; spec: FunctionSpec }>, options?: TopologyOptions): Promise<EventTopology> {
  const topology = makeTopology(functions, options);
  await reconcileTopology(env.jsm, topology);
  return topology;
}

/** A JSON CloudEvent with a unique id. */
export function testEvent(id: string, extra: Record<string, unknown> = {}): CloudEvent<unknown> {
  return new CloudEvent<unknown>({ id, source: "/test", type: "test.event", datacontenttype: "application/json", data: { id }, ...extra }, false);
}

/** Starts a dispatcher for a planned consumer; replies and dead letters go through JetStream. */
export function dispatch(env: EventsEnv, plan: ConsumerPlan, deliver: Deliver, overrides: Partial<DispatcherOptions> = {}): Dispatcher {
  return startDispatcher({
    js: env.js, stream: plan.stream, consumerName: plan.name, fn: plan.fn, trigger: plan.trigger,
    capacity: () => plan.capacity, deliver,
    publishReply: (subject, event) => publishEvent(env.js, env.nc, subject, event),
    deadLetter: (letter) => publishDeadLetter(env.js, letter),
    logger: { info: () => {}, warn: (message, fields) => (process.env.DEBUG_EVENTS ? console.warn(message, fields) : undefined), error: (message, fields) => console.error(message, fields) },
    pullExpiresMs: 1_000,
    stopTimeoutMs: 2_000,
    ...overrides,
  });
}

/** Publishes events on a subject through JetStream, in order. */
export async function publishAll(env: EventsEnv, subject: string, events: CloudEvent<unknown>[]): Promise<void> {
  for (const event of events) await publishEvent(env.js, env.nc, subject, event);
}

/** Collects the events arriving on a subject over core NATS (what `skiff events tail` sees). */
export function collect(env: EventsEnv, subject: string): { events: CloudEvent<unknown>[]; headers: Array<Record<string, string>>; sub: Subscription } {
  const events: CloudEvent<unknown>[] = [];
  const headers: Array<Record<string, string>> = [];
  const sub = env.nc.subscribe(subject, {
    callback: (_error, msg) => {
      const message = fromNatsMsg(msg);
      headers.push(message.headers);
      events.push(NATS.toEvent(message));
    },
  });
  return { events, headers, sub };
}

/** Resolves on the connection's next reconnect (a request sent before it would wait out its timeout). */
export async function nextReconnect(env: EventsEnv): Promise<void> {
  for await (const status of env.nc.status()) if (status.type === "reconnect") return;
}

/** Resolves after ms (to hold a fake handler busy, never to wait for a condition). */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
