// CloudEvents over HTTP through the runtime: round trips through functions/echo-event with
// events built by the `cloudevents` SDK, and the 400s a malformed event gets.
import { CloudEvent, HTTP } from "cloudevents";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import { decodeHeaderValue, encodeBinaryHeaders } from "../runtime/index.ts";
import { startBuiltReplica, waitReady, type RunningReplica } from "./harness/replica.ts";

const ECHO = fileURLToPath(new URL("../functions/echo-event", import.meta.url));
let echo: RunningReplica;

beforeAll(async () => {
  echo = await startBuiltReplica(ECHO);
  await waitReady(echo.url);
});

async function send(message: { headers: Record<string, unknown>; body: unknown }): Promise<Response> {
  // The SDK leaves non-ASCII values raw; the HTTP binding wants them percent-encoded.
  return fetch(echo.url, { method: "POST", headers: encodeBinaryHeaders(message.headers), body: message.body as BodyInit });
}

async function replyOf(res: Response): Promise<CloudEvent<unknown>> {
  const body = await res.text();
  const headers: Record<string, string> = {};
  res.headers.forEach((value, key) => (headers[key] = decodeHeaderValue(value)));
  return HTTP.toEvent({ headers, body }) as CloudEvent<unknown>;
}

describe("echo-event", () => {
  const event = new CloudEvent({
    id: "evt-1",
    type: "com.example.ping",
    source: "/tests/echo",
    subject: "ünïcode ✓",
    data: { text: "hello", n: 3, nested: [1, 2] },
    myext: "ext-value",
  });

  for (const [mode, encode] of [["binary", HTTP.binary], ["structured", HTTP.structured]] as const) {
    it(`round-trips an SDK event in ${mode} mode, replying in binary mode with 200`, async () => {
      const res = await send(encode(event));
      expect(res.status).toBe(200);
      expect(res.headers.get("ce-id")).toBe("evt-1");
      expect(res.headers.get("ce-subject")).toBe("%C3%BCn%C3%AFcode%20%E2%9C%93");
      const reply = await replyOf(res);
      expect({ id: reply.id, type: reply.type, source: reply.source, data: reply.data, subject: reply.subject, myext: reply.myext })
        .toEqual({ id: "evt-1", type: "com.example.ping", source: "/tests/echo", data: event.data, subject: "ünïcode ✓", myext: "ext-value" });
    });
  }

  it("round-trips binary data", async () => {
    const bytes = new Uint8Array([0, 1, 2, 250, 255]);
    const res = await send(HTTP.binary(new CloudEvent({ type: "t", source: "/s", datacontenttype: "application/octet-stream", data: Buffer.from(bytes) })));
    expect(res.status).toBe(200);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(bytes);
  });

  for (const attribute of ["id", "source", "type"]) {
    it(`answers 400 naming a missing "${attribute}" (binary and structured)`, async () => {
      const binary = HTTP.binary(event);
      delete (binary.headers as Record<string, unknown>)[`ce-${attribute}`];
      const res = await send(binary);
      expect(res.status).toBe(400);
      expect((await res.json()).error).toBe(`invalid CloudEvent: missing required attribute "${attribute}" (header ce-${attribute})`);

      const structured = JSON.parse(HTTP.structured(event).body as string) as Record<string, unknown>;
      delete structured[attribute];
      const res2 = await send({ headers: { "content-type": "application/cloudevents+json" }, body: JSON.stringify(structured) });
      expect(res2.status).toBe(400);
      expect((await res2.json()).error).toBe(`invalid CloudEvent: missing required attribute "${attribute}"`);
    });
  }

  it("refuses batched mode with a clear 400", async () => {
    const res = await send({ headers: { "content-type": "application/cloudevents-batch+json" }, body: JSON.stringify([event]) });
    expect(res.status).toBe(400);
    expect((await res.json()).error).toMatch(/batched mode .* is not supported; send one event per request/);
  });

  it("refuses a structured body that is not JSON", async () => {
    const res = await send({ headers: { "content-type": "application/cloudevents+json" }, body: "{nope" });
    expect(res.status).toBe(400);
    expect((await res.json()).error).toMatch(/^invalid CloudEvent: structured-mode body is not JSON/);
  });

  it("tells a plain HTTP caller that this function only takes CloudEvents", async () => {
    const res = await fetch(echo.url);
    expect(res.status).toBe(400);
    expect((await res.json()).error).toMatch(/only handles CloudEvents/);
  });
});
