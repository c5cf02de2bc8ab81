// The CloudEvents NATS binding over a real nats-server: core NATS publish with headers, read back
// through a JetStream stream and a durable pull consumer, across a server restart.
import { AckPolicy, jetstream, jetstreamManager, type Consumer, type JsMsg } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { CloudEvent, type CloudEventV1 } from "cloudevents";
import { afterAll, beforeAll, expect, it } from "vitest";
import { fromNatsMsg, NATS, toNatsHeaders } from "../controller/events/nats-binding.ts";
import { describeWithNats, startNatsServer, type NatsServer } from "./harness/nats-server.ts";

const STREAM = "SKIFF_BINDING_TEST";
const SUBJECT = "skiff.test.events";
const ALL_BYTES = Uint8Array.from({ length: 256 }, (_, i) => i);

const BASE = { specversion: "1.0", id: "e", source: "/s", type: "t", time: "2024-05-06T07:08:09Z" };
// Not strict: the SDK's schema rejects a non-ASCII source (not a URI-reference); such events exist.
const event = (attributes: Record<string, unknown>): CloudEvent<unknown> =>
  new CloudEvent<unknown>({ ...BASE, ...attributes } as CloudEventV1<unknown>, false);

const EVENTS = [
  event({
    id: "ïd 😀 \"1\" 100%", source: "/sensors/café/☕", type: "com.example.事件", subject: "  spaced\tout\r\n  ",
    dataschema: "https://example.com/schéma", time: "2024-05-06T07:08:09.123456789+02:00",
    datacontenttype: "application/octet-stream", note: "naïve ☃", count: 7, flag: true, data: ALL_BYTES,
  }),
  event({ id: "json", datacontenttype: "application/json", data: { text: "grüße 😀", list: [1, null, true] } }),
  event({ id: "text", datacontenttype: "text/plain; charset=utf-8", data: "zeile 1\nzeile 2 ✓" }),
];

/** Attributes without data; binary mode carries non-string extensions as strings (the binding). */
function attributesOf(ev: CloudEventV1<unknown>, stringify: boolean): Record<string, unknown> {
  const entries = Object.entries(ev).filter(([name, value]) => value !== undefined && name !== "data" && name !== "data_base64");
  return Object.fromEntries(entries.map(([name, value]) => [name, stringify && typeof value !== "string" ? String(value) : value]));
}

function expectSameEvent(received: CloudEvent<unknown>, sent: CloudEvent<unknown>, mode: "binary" | "structured"): void {
  expect(attributesOf(received, false)).toEqual(attributesOf(sent, mode === "binary"));
  const data = sent.data instanceof Uint8Array ? new Uint8Array(sent.data) : sent.data;
  expect(received.data).toEqual(data);
}

describeWithNats("CloudEvents NATS binding over nats-server and JetStream", () => {
  let server: NatsServer;
  let nc: NatsConnection;
  let consumer: Consumer;

  beforeAll(async () => {
    server = await startNatsServer();
    // Reconnect quickly and forever: the restart test relies on the same connection coming back.
    nc = await connect({ servers: server.url, maxReconnectAttempts: -1, reconnectTimeWait: 50 });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: STREAM, subjects: ["skiff.test.>"] });
    await jsm.consumers.add(STREAM, { durable_name: "reader", ack_policy: AckPolicy.Explicit });
    consumer = await jetstream(nc).consumers.get(STREAM, "reader");
  });

  afterAll(async () => {
    await nc?.close();
    await server?.stop();
  });

  async function next(): Promise<JsMsg> {
    const msg = await consumer.next({ expires: 10_000 });
    if (!msg) throw new Error(`no message from consumer "reader" on ${STREAM} within 10s`);
    await msg.ackAck();
    return msg;
  }

  const receive = async (): Promise<CloudEvent<unknown>> => NATS.toEvent(fromNatsMsg(await next()));

  /** Runs `stop` (which brings the server back) and waits until this connection has reconnected. */
  async function bounce(stop: () => Promise<void>): Promise<void> {
    const reconnected = (async () => {
      for await (const status of nc.status()) if (status.type === "reconnect") return;
    })();
    await stop();
    await reconnected;
  }

  for (const mode of ["binary", "structured"] as const) {
    it(`${mode} mode: core NATS publish, JetStream pull, every attribute and the data intact`, async () => {
      const messages = EVENTS.map((ev) => NATS[mode](ev));
      for (const message of messages) nc.publish(SUBJECT, message.body, { headers: toNatsHeaders(message.headers) });
      await nc.flush();
      for (const [i, sent] of EVENTS.entries()) {
        const msg = await next();
        // The headers went over the wire as written (percent-encoded, printable ASCII).
        for (const [name, value] of Object.entries(messages[i]!.headers)) expect(msg.headers?.get(name)).toBe(value);
        expectSameEvent(NATS.toEvent(fromNatsMsg(msg)), sent, mode);
      }
    });
  }

  it("after a server restart the durable consumer still delivers, from the persisted stream", async () => {
    const js = jetstream(nc);
    const before = event({ id: "before-restart", datacontenttype: "application/json", data: { n: 1 } });
    const after = event({ id: "after-restart", datacontenttype: "application/octet-stream", data: ALL_BYTES });
    // A JetStream publish: its ack means the stream stored the event before the server goes down.
    const b = NATS.binary(before);
    await js.publish(SUBJECT, b.body, { headers: toNatsHeaders(b.headers) });

    const serverId = nc.info?.server_id;
    await bounce(() => server.restart());
    expect(nc.info?.server_id).not.toBe(serverId); // a new process answered

    const a = NATS.binary(after);
    nc.publish(SUBJECT, a.body, { headers: toNatsHeaders(a.headers) });
    await nc.flush();
    expectSameEvent(await receive(), before, "binary");
    expectSameEvent(await receive(), after, "binary");
  });

  it("after a crash (SIGKILL) and restart an acknowledged publish is still delivered", async () => {
    const crash = event({ id: "before-crash", subject: "☠ crash", datacontenttype: "text/plain", data: "survived" });
    const message = NATS.structured(crash);
    await jetstream(nc).publish(SUBJECT, message.body, { headers: toNatsHeaders(message.headers) });
    await bounce(async () => {
      await server.kill();
      await server.restart();
    });
    // At-least-once: the consumer's ack state is written lazily, so after SIGKILL the server may
    // redeliver events that were already acknowledged (even with ackAck). Only those may precede ours.
    const redelivered: string[] = [];
    let received = await receive();
    while (received.id !== crash.id) {
      redelivered.push(received.id);
      received = await receive();
    }
    expectSameEvent(received, crash, "structured");
    const earlier = new Set([...EVENTS.map((ev) => ev.id), "before-restart", "after-restart"]);
    expect(redelivered.filter((id) => !earlier.has(id))).toEqual([]);
  });
});
