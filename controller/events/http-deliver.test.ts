import { CloudEvent } from "cloudevents";
import { describe, expect, it } from "vitest";
import { encodeBinaryRequest, httpDeliver, parseReply, parseRetryAfter, readDeliveryAnswer } from "./http-deliver.ts";
import { StreamLookupCache } from "./publish.ts";
import type { DeliveryContext } from "./types.ts";

const event = new CloudEvent<unknown>({ id: "e 1", source: "/s", type: "t", datacontenttype: "application/json", data: { a: "é" }, skiffhops: 2 }, false);
const context = (): DeliveryContext => ({ deliveryCount: 1, signal: new AbortController().signal, fn: "f", trigger: { subject: "x", maxDeliver: 3, backoffMs: [1] } });

function deliverWith(respond: (request: Request) => Response | Promise<Response>) {
  const requests: Request[] = [];
  const deliver = httpDeliver({
    url: (fn) => `http://gateway.test/fn/${fn}/`,
    fetch: async (input, init) => {
      const request = new Request(input as string, init);
      requests.push(request.clone());
      return respond(request);
    },
  });
  return { deliver, requests };
}

describe("httpDeliver", () => {
  it("POSTs the event in binary mode, ce- values percent-encoded, to the function's URL", async () => {
    const { deliver, requests } = deliverWith(() => new Response(null, { status: 202 }));
    expect(await deliver(event, context())).toEqual({ status: 202 });
    const [request] = requests;
    expect(request!.url).toBe("http://gateway.test/fn/f/");
    expect(request!.method).toBe("POST");
    expect(Object.fromEntries(request!.headers)).toMatchObject({ "ce-id": "e%201", "ce-source": "/s", "ce-type": "t", "ce-skiffhops": "2", "content-type": "application/json" });
    expect(await request!.json()).toEqual({ a: "é" });
  });

  it("reads a reply event from a binary-mode response", async () => {
    const { deliver } = deliverWith(() => new Response(JSON.stringify({ ok: true }), {
      status: 200, headers: { "ce-id": "r%201", "ce-source": "/f", "ce-type": "done", "ce-specversion": "1.0", "content-type": "application/json" },
    }));
    const result = await deliver(event, context());
    expect(result.status).toBe(200);
    expect(result.reply).toMatchObject({ id: "r 1", source: "/f", type: "done", data: { ok: true } });
  });

  it("reads a structured-mode reply, and counts a malformed one as a failed delivery (502)", async () => {
    const json = { specversion: "1.0", id: "r2", source: "/f", type: "done", data: 5 };
    const ok = deliverWith(() => new Response(JSON.stringify(json), { headers: { "content-type": "application/cloudevents+json" } }));
    expect((await ok.deliver(event, context())).reply).toMatchObject({ id: "r2", data: 5 });
    const bad = deliverWith(() => new Response("{not json", { headers: { "content-type": "application/cloudevents+json" } }));
    expect(await bad.deliver(event, context())).toMatchObject({ status: 502, error: expect.stringMatching(/not a valid CloudEvent/) });
  });

  it("returns the status, the runtime's error text and Retry-After of a failure", async () => {
    const { deliver } = deliverWith(() => new Response(JSON.stringify({ error: "model not loaded", requestId: "req-9" }), { status: 503, headers: { "retry-after": "2" } }));
    expect(await deliver(event, context())).toEqual({ status: 503, error: "model not loaded (request req-9)", retryAfterMs: 2_000 });
    const plain = deliverWith(() => new Response("x".repeat(5_000), { status: 400 }));
    expect((await plain.deliver(event, context())).error).toHaveLength(1_027);
  });

  it("maps a connection failure to status 0", async () => {
    const { deliver } = deliverWith(() => Promise.reject(new TypeError("fetch failed", { cause: new Error("ECONNREFUSED") })));
    expect(await deliver(event, context())).toEqual({ status: 0, error: "POST http://gateway.test/fn/f/ failed: fetch failed (ECONNREFUSED)" });
  });

  it.each([["3", 3_000], ["0", 0], [null, undefined], ["soon", undefined], ["Wed, 21 Oct 2015 07:28:10 GMT", 10_000]])(
    "parseRetryAfter(%j) = %j", (value, ms) => expect(parseRetryAfter(value, Date.parse("Wed, 21 Oct 2015 07:28:00 GMT"))).toBe(ms),
  );
});

describe("parseReply and readDeliveryAnswer (node:http header records)", () => {
  it("reads a binary reply with the NATS binding's decoder: percent-decoded ce- values, JSON data, first header value", () => {
    const reply = parseReply({ "ce-id": "r%201", "ce-source": "/f", "ce-type": ["t.out", "ignored"], "ce-specversion": "1.0", "content-type": "application/json", "content-length": 9 }, new TextEncoder().encode('{"b":"é"}'));
    expect(reply).toMatchObject({ id: "r 1", source: "/f", type: "t.out", datacontenttype: "application/json", data: { b: "é" } });
  });

  it("returns no reply without ce- headers, and 502 for a binary reply missing a required attribute", () => {
    expect(parseReply({ "content-type": "application/json" }, new TextEncoder().encode("{}"))).toBeUndefined();
    const answer = readDeliveryAnswer(200, { "ce-id": "1", "ce-specversion": "1.0", "ce-source": "/f" }, new Uint8Array());
    expect(answer.status).toBe(502);
    expect(answer.error).toContain('missing required attribute "type"');
  });

  it("still reads structured replies (through the SDK), and Retry-After from a record", () => {
    const body = JSON.stringify({ specversion: "1.0", id: "s1", source: "/f", type: "t", data: { ok: true } });
    expect(parseReply({ "content-type": "application/cloudevents+json" }, new TextEncoder().encode(body))).toMatchObject({ id: "s1", data: { ok: true } });
    expect(readDeliveryAnswer(503, { "retry-after": "1" }, new TextEncoder().encode('{"error":"busy"}'))).toEqual({ status: 503, error: "busy", retryAfterMs: 1_000 });
  });

  it("encodeBinaryRequest gives ce- headers and the data as bytes", () => {
    const request = encodeBinaryRequest(event);
    expect(request.headers).toMatchObject({ "ce-id": "e%201", "content-type": "application/json" });
    expect(JSON.parse(new TextDecoder().decode(request.body))).toEqual({ a: "é" });
  });
});

describe("StreamLookupCache", () => {
  it("asks once per subject until invalidated or expired, shares a pending lookup, and forgets failures", async () => {
    let now = 0;
    const cache = new StreamLookupCache(1_000, () => now);
    let asked = 0;
    const ask = async () => (asked++, true);
    expect(await Promise.all([cache.lookup("a", ask), cache.lookup("a", ask)])).toEqual([true, true]);
    expect(asked).toBe(1);
    cache.invalidate();
    await cache.lookup("a", ask);
    expect(asked).toBe(2);
    now = 1_000;
    await cache.lookup("a", ask);
    expect(asked).toBe(3);
    await expect(cache.lookup("b", () => Promise.reject(new Error("timeout")))).rejects.toThrow("timeout");
    expect(await cache.lookup("b", async () => false)).toBe(false);
    cache.invalidate("b");
    expect(cache.size).toBe(1);
  });
});
