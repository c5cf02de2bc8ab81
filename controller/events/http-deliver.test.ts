import { CloudEvent } from "cloudevents";
import { describe, expect, it } from "vitest";
import { httpDeliver, parseRetryAfter } from "./http-deliver.ts";
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
