import { CloudEvent, type CloudEventV1 } from "cloudevents";
import { describe, expect, it } from "vitest";
import { InvalidCloudEventError } from "./errors.ts";
import { fromNatsMsg, hopsOf, HOP_COUNT_EXTENSION, NATS, STRUCTURED_CONTENT_TYPE, toNatsHeaders, withHop, type NatsMessage } from "./nats-binding.ts";

const ALL_BYTES = Uint8Array.from({ length: 256 }, (_, i) => i);
const TRICKY = ' 100% "quoted" \t tab\r\nCRLF \u0000nul \u007fdel \u0085nel ☃ 😀 ';
const base = { specversion: "1.0", id: "id-1", source: "/src", type: "com.example.t", time: "2024-05-06T07:08:09Z" };

// Not strict: a source with non-ASCII characters is not a URI-reference, which the SDK's schema
// rejects, yet such events exist in the wild and must survive the trip.
const event = (attributes: Record<string, unknown>): CloudEvent<unknown> => new CloudEvent<unknown>({ ...base, ...attributes } as CloudEventV1<unknown>, false);

const cases: Array<{ name: string; event: CloudEvent<unknown> }> = [
  {
    name: "unicode in every string attribute",
    event: event({
      id: "ïd-☕-😀", source: "/sensors/café/☕", type: "com.example.ünïcode.事件", subject: "主题 mit Ümlaut",
      dataschema: "https://example.com/schéma", time: "2024-05-06T07:08:09.123456789+02:00",
      datacontenttype: "application/json; charset=utf-8", note: "naïve ☃ 😀", data: { text: "grüße 😀" },
    }),
  },
  { name: "values needing percent-encoding", event: event({ id: TRICKY, subject: TRICKY, type: "%41 %%", comment: TRICKY, data: "x" }) },
  { name: "extensions of every type", event: event({ count: 42, flag: true, off: false, label: "v", averyveryverylongextensionname: "kept" }) },
  { name: "binary data, all 256 bytes", event: event({ datacontenttype: "application/octet-stream", data: ALL_BYTES }) },
  { name: "binary data without a content type", event: event({ data: Buffer.from(ALL_BYTES) }) },
  { name: "text data", event: event({ datacontenttype: "text/plain; charset=utf-8", data: "héllo\nwörld 😀 %20" }) },
  { name: "JSON object data", event: event({ datacontenttype: "application/json", data: { a: [1, 2.5, null, "ü"], b: { c: true } } }) },
  { name: "JSON string data", event: event({ datacontenttype: "application/json", data: "just a string" }) },
  { name: "JSON number data, +json content type", event: event({ datacontenttype: "application/vnd.x+json", data: 0 }) },
  { name: "object data without a content type", event: event({ data: { implicit: "json" } }) },
  { name: "no data", event: event({}) },
];

/** The attributes of an event (no data), as a receiver should see them. */
function attributesOf(ev: CloudEventV1<unknown>, mode: "binary" | "structured"): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(ev)) {
    if (name === "data" || name === "data_base64" || value === undefined) continue;
    // Binary mode carries every attribute as a string: that is the binding, not a loss.
    out[name] = mode === "binary" && typeof value !== "string" ? String(value) : value;
  }
  // Non-binary data without a content type travels as JSON and says so.
  if (ev.datacontenttype === undefined && ev.data !== undefined && !ArrayBuffer.isView(ev.data)) out.datacontenttype = "application/json";
  return out;
}

const bytes = (data: unknown): unknown => (ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : data);

describe("NATS binding round trips", () => {
  for (const mode of ["binary", "structured"] as const) {
    for (const { name, event: sent } of cases) {
      it(`${mode}: ${name}`, () => {
        const message = NATS[mode](sent);
        expect(NATS.isEvent(message)).toBe(true);
        const received = NATS.toEvent<unknown>(message);
        expect(attributesOf(received, "structured")).toEqual(attributesOf(sent, mode));
        expect(bytes(received.data)).toEqual(bytes(sent.data));
      });
    }
  }
});

describe("NATS binary mode on the wire", () => {
  it("percent-encodes values as the binding's example says and keeps header values printable ASCII", () => {
    const message = NATS.binary(event({ subject: "Euro € 😀", comment: TRICKY }));
    expect(message.headers["ce-subject"]).toBe("Euro%20%E2%82%AC%20%F0%9F%98%80");
    for (const value of Object.values(message.headers)) expect(value).toMatch(/^[\x21-\x7e]*$/);
  });

  it("maps datacontenttype to ce-datacontenttype and Content-Type, and every attribute to ce-*", () => {
    const message = NATS.binary(event({ datacontenttype: "application/json", count: 3, data: { a: 1 } }));
    expect(message.headers).toEqual({
      "ce-specversion": "1.0", "ce-id": "id-1", "ce-source": "/src", "ce-type": "com.example.t",
      "ce-time": "2024-05-06T07:08:09Z", "ce-datacontenttype": "application/json", "ce-count": "3",
      "content-type": "application/json",
    });
    expect(new TextDecoder().decode(message.body)).toBe('{"a":1}');
  });

  it("does not set a cloudevents Content-Type for binary data that is itself an event", () => {
    const message = NATS.binary(event({ datacontenttype: STRUCTURED_CONTENT_TYPE, data: { specversion: "1.0" } }));
    expect(message.headers["content-type"]).toBeUndefined();
    expect(NATS.toEvent(message).data).toEqual({ specversion: "1.0" });
  });

  it("structured mode sets the event-format content type and base64 for bytes", () => {
    const message = NATS.structured(event({ data: Uint8Array.of(0, 255) }));
    expect(message.headers).toEqual({ "content-type": STRUCTURED_CONTENT_TYPE });
    expect(JSON.parse(new TextDecoder().decode(message.body))).toMatchObject({ data_base64: "AP8=" });
  });
});

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const binaryHeaders = { "ce-specversion": "1.0", "ce-id": "1", "ce-source": "/s", "ce-type": "t" };

describe("NATS toEvent accepts what other producers send", () => {
  const accepted: Array<{ name: string; message: NatsMessage; expect: Record<string, unknown> }> = [
    { name: "mixed-case header names", message: { headers: { "Ce-Id": "X", "CE-SPECVERSION": "1.0", "ce-Source": "/s", "ce-type": "t" }, body: text("") }, expect: { id: "X" } },
    { name: "lower-case percent escapes", message: { headers: { ...binaryHeaders, "ce-subject": "%e2%82%ac" }, body: text("") }, expect: { subject: "€" } },
    { name: "quoted-string values", message: { headers: { ...binaryHeaders, "ce-subject": '"a \\"b\\" c"' }, body: text("") }, expect: { subject: 'a "b" c' } },
    { name: "a stray %", message: { headers: { ...binaryHeaders, "ce-subject": "100%" }, body: text("") }, expect: { subject: "100%" } },
    { name: "Content-Type instead of ce-datacontenttype", message: { headers: { ...binaryHeaders, "content-type": "application/json" }, body: text('{"k":1}') }, expect: { datacontenttype: "application/json", data: { k: 1 } } },
    { name: "ce-* headers that are not attribute names are ignored", message: { headers: { ...binaryHeaders, "ce-foo-bar": "x", "nats-msg-id": "y" }, body: text("") }, expect: { id: "1" } },
    { name: "a headerless structured event (binding 1.0.2)", message: { headers: {}, body: text('{"specversion":"1.0","id":"9","source":"/s","type":"t","data":{"v":1}}') }, expect: { id: "9", data: { v: 1 } } },
    { name: "a string body", message: { headers: { "content-type": STRUCTURED_CONTENT_TYPE }, body: '{"specversion":"1.0","id":"s","source":"/s","type":"t"}' as unknown as Uint8Array }, expect: { id: "s" } },
  ];
  for (const { name, message, expect: expected } of accepted) {
    it(name, () => expect(NATS.toEvent(message)).toMatchObject(expected));
  }
});

describe("NATS toEvent rejects what is not a CloudEvent, naming why", () => {
  const structured = (body: string): NatsMessage => ({ headers: { "content-type": STRUCTURED_CONTENT_TYPE }, body: text(body) });
  const without = (name: string): Record<string, string> => Object.fromEntries(Object.entries(binaryHeaders).filter(([key]) => key !== `ce-${name}`));
  const rejected: Array<{ name: string; message: NatsMessage; error: RegExp }> = [
    ...["id", "source", "type", "specversion"].map((attribute) => ({
      name: `binary without ${attribute}`, message: { headers: without(attribute), body: text("") }, error: new RegExp(`missing required attribute "${attribute}" \\(header ce-${attribute}\\)`),
    })),
    ...["id", "source", "type", "specversion"].map((attribute) => ({
      name: `structured without ${attribute}`,
      message: structured(JSON.stringify({ ...base, [attribute]: undefined })), error: new RegExp(`missing required attribute "${attribute}"`),
    })),
    { name: "an empty id", message: { headers: { ...binaryHeaders, "ce-id": "" }, body: text("") }, error: /"id" must be a non-empty string/ },
    { name: "a numeric id", message: structured(JSON.stringify({ ...base, id: 7 })), error: /"id" must be a non-empty string/ },
    { name: "specversion 0.3", message: { headers: { ...binaryHeaders, "ce-specversion": "0.3" }, body: text("") }, error: /unknown specversion "0.3"/ },
    { name: "a non-JSON structured body", message: structured("not json"), error: /structured-mode body is not UTF-8 JSON/ },
    { name: "a structured body that is not an object", message: structured('"str"'), error: /not a JSON object/ },
    { name: "a JSON array body", message: structured("[]"), error: /batch mode is not supported/ },
    { name: "batch content type", message: { headers: { "content-type": "application/cloudevents-batch+json" }, body: text("[]") }, error: /batch mode .* is not supported/ },
    { name: "a non-JSON event format", message: { headers: { "content-type": "application/cloudevents+xml" }, body: text("<e/>") }, error: /unsupported event format/ },
    { name: "a headerless non-JSON body", message: { headers: {}, body: text("hello") }, error: /no ce-\* headers/ },
    { name: "overlong UTF-8 in a header", message: { headers: { ...binaryHeaders, "ce-subject": "%C0%A0" }, body: text("") }, error: /ce-subject .* not UTF-8/ },
    { name: "a malformed time", message: { headers: { ...binaryHeaders, "ce-time": "yesterday" }, body: text("") }, error: /"time" is not an RFC 3339 timestamp/ },
    { name: "JSON data that is not JSON", message: { headers: { ...binaryHeaders, "ce-datacontenttype": "application/json" }, body: text("{oops") }, error: /data is not JSON/ },
    { name: "both data and data_base64", message: structured(JSON.stringify({ ...base, data: 1, data_base64: "AA==" })), error: /both data and data_base64/ },
    { name: "data_base64 that is not base64", message: structured(JSON.stringify({ ...base, data_base64: "!!" })), error: /not a base64 string/ },
    { name: "an object extension", message: structured(JSON.stringify({ ...base, ext: { a: 1 } })), error: /extension "ext"/ },
  ];
  for (const { name, message, error } of rejected) {
    it(name, () => {
      expect(() => NATS.toEvent(message)).toThrow(InvalidCloudEventError);
      expect(() => NATS.toEvent(message)).toThrow(error);
      expect(NATS.isEvent(message)).toBe(false);
    });
  }
});

describe("hop count", () => {
  it("starts at 0, counts replies from their cause, and survives both modes", () => {
    const first = event({});
    expect(hopsOf(first)).toBe(0);
    const hopped = withHop(first);
    expect(hopped[HOP_COUNT_EXTENSION]).toBe(1);
    const viaBinary = NATS.toEvent(NATS.binary(hopped));
    expect(viaBinary[HOP_COUNT_EXTENSION]).toBe("1"); // header values are strings
    const reply = withHop(event({ id: "reply", data: { ok: true } }), viaBinary);
    expect(hopsOf(NATS.toEvent(NATS.structured(reply)))).toBe(2);
    expect(reply.data).toEqual({ ok: true });
  });

  it("reads a malformed count as 0", () => {
    for (const bad of ["x", "-1", "1.5", "99999999999", { n: 1 }]) expect(hopsOf(event({ [HOP_COUNT_EXTENSION]: bad }))).toBe(0);
  });
});

describe("nats.js adapters", () => {
  it("round-trip a message's headers through MsgHdrs, lower-casing names", () => {
    const message = NATS.binary(event({ subject: TRICKY, data: ALL_BYTES }));
    const hdrs = toNatsHeaders(message.headers);
    hdrs.set("Ce-Extra", "yes");
    const back = fromNatsMsg({ headers: hdrs, data: message.body });
    expect(back.headers).toEqual({ ...message.headers, "ce-extra": "yes" });
    expect(NATS.toEvent(back).subject).toBe(TRICKY);
  });

  it("reads a message without headers", () => {
    expect(fromNatsMsg({ data: text("x") })).toEqual({ headers: {}, body: text("x") });
  });
});
