import { CloudEvent } from "cloudevents";
import { describe, expect, it } from "vitest";
import { DLQ_HEADERS, encodeTruncated, makeDeadLetter, MAX_DLQ_ERROR_BYTES, parseDeadLetter, type DeadLetterInput } from "./dead-letter.ts";
import { NATS } from "./nats-binding.ts";

const event = new CloudEvent({ id: "e-1", source: "/test", type: "t.created", datacontenttype: "application/json", data: { n: 1 } });

function input(overrides: Partial<DeadLetterInput> = {}): DeadLetterInput {
  const message = NATS.binary(event);
  return {
    fn: "resize", message: { ...message, headers: { ...message.headers, "Nats-Msg-Id": "abc" } }, subject: "images.uploaded",
    consumer: "skiff-resize-0badf00d", streamSeq: 42, reason: "max deliveries reached", status: 503,
    error: "upstream said \"no\" ☹\nline two", deliveries: 5, timeMs: Date.UTC(2025, 0, 2, 3, 4, 5), ...overrides,
  };
}

describe("dead-letter format", () => {
  it("keeps the original headers and body and adds skiff-dlq-* metadata", () => {
    const { subject, message, msgID } = makeDeadLetter(input());
    expect(subject).toBe("skiff.dlq.resize");
    expect(msgID).toBe("skiff-resize-0badf00d:42");
    expect(message.body).toEqual(NATS.binary(event).body);
    expect(message.headers).toMatchObject({ "ce-id": "e-1", "ce-type": "t.created", "ce-source": "%2Ftest".replace("%2F", "/") });
    expect(message.headers).not.toHaveProperty("Nats-Msg-Id");
    expect(message.headers).toMatchObject({
      [DLQ_HEADERS.reason]: "max%20deliveries%20reached",
      [DLQ_HEADERS.status]: "503",
      [DLQ_HEADERS.error]: "upstream%20said%20%22no%22%20%E2%98%B9%0Aline%20two",
      [DLQ_HEADERS.deliveries]: "5",
      [DLQ_HEADERS.subject]: "images.uploaded",
      [DLQ_HEADERS.consumer]: "skiff-resize-0badf00d",
      [DLQ_HEADERS.time]: "2025-01-02T03:04:05.000Z",
      [DLQ_HEADERS.streamSeq]: "42",
    });
  });

  it("parses back into the original event and the metadata", () => {
    const { subject, message } = makeDeadLetter(input());
    const letter = parseDeadLetter({ ...message, subject, seq: 7 });
    expect(letter).toMatchObject({
      seq: 7, fn: "resize", reason: "max deliveries reached", status: 503, error: "upstream said \"no\" ☹\nline two",
      deliveries: 5, subject: "images.uploaded", consumer: "skiff-resize-0badf00d", time: "2025-01-02T03:04:05.000Z", streamSeq: 42,
    });
    expect(letter.invalid).toBeUndefined();
    expect(letter.event).toMatchObject({ id: "e-1", source: "/test", type: "t.created", data: { n: 1 } });
    expect(Object.keys(letter.original.headers).some((h) => h.startsWith("skiff-dlq-"))).toBe(false);
  });

  it("keeps an original that is not an event as raw bytes", () => {
    const raw = { headers: { "x-app": "1" }, body: new Uint8Array([0xff, 0x00, 0x7b]) };
    const { subject, message } = makeDeadLetter(input({ message: raw, reason: "invalid event", status: 0, error: "not JSON" }));
    const letter = parseDeadLetter({ ...message, subject });
    expect(letter.event).toBeUndefined();
    expect(letter.invalid).toMatch(/invalid CloudEvent/);
    expect(letter.original).toEqual(raw);
    expect(letter.status).toBe(0);
  });

  it("truncates the error to 1 KiB after percent-encoding, at a character boundary", () => {
    const long = "é".repeat(2_000);
    const encoded = encodeTruncated(long, MAX_DLQ_ERROR_BYTES);
    expect(encoded.length).toBeLessThanOrEqual(MAX_DLQ_ERROR_BYTES);
    expect(encoded.endsWith("%C3%A9...")).toBe(true);
    expect(encodeTruncated("short", MAX_DLQ_ERROR_BYTES)).toBe("short");
    const { message } = makeDeadLetter(input({ error: long }));
    expect(message.headers[DLQ_HEADERS.error]!.length).toBeLessThanOrEqual(MAX_DLQ_ERROR_BYTES);
  });
});
