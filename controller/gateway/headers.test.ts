import { describe, expect, it } from "vitest";
import { declaredLength, hasRequestBody, makeResponseHeaders, makeUpstreamHeaders } from "./headers.ts";

describe("makeUpstreamHeaders", () => {
  const client = { remoteAddress: "10.0.0.7", requestId: "gen-1" };

  it("drops hop-by-hop headers, including those named in Connection, and keeps the rest", () => {
    const out = makeUpstreamHeaders(
      {
        host: "gw:8080",
        connection: "keep-alive, X-Hop",
        "keep-alive": "timeout=5",
        "x-hop": "1",
        te: "trailers",
        "transfer-encoding": "chunked",
        upgrade: "websocket",
        "proxy-authorization": "Basic x",
        expect: "100-continue",
        "content-type": "application/json",
        "content-length": "12",
        authorization: "Bearer t",
        cookie: "a=1",
      },
      client,
    );
    expect(out).toEqual({
      "content-type": "application/json",
      "content-length": "12",
      authorization: "Bearer t",
      cookie: "a=1",
      "x-forwarded-for": "10.0.0.7",
      "x-forwarded-host": "gw:8080",
      "x-forwarded-proto": "http",
      "x-request-id": "gen-1",
    });
  });

  it("appends to an existing x-forwarded-for chain and keeps the caller's request id", () => {
    const out = makeUpstreamHeaders({ "x-forwarded-for": "1.2.3.4", "x-request-id": "mine" }, client);
    expect(out["x-forwarded-for"]).toBe("1.2.3.4, 10.0.0.7");
    expect(out["x-request-id"]).toBe("mine");
  });

  it("omits x-forwarded-for and -host when nothing is known", () => {
    const out = makeUpstreamHeaders({}, { remoteAddress: undefined, requestId: "r" });
    expect(out).toEqual({ "x-forwarded-proto": "http", "x-request-id": "r" });
  });
});

describe("makeResponseHeaders", () => {
  it("keeps end-to-end headers (set-cookie as a list) and drops framing ones", () => {
    const out = makeResponseHeaders({
      "content-type": "text/plain",
      "content-length": "5",
      "set-cookie": ["a=1", "b=2"],
      connection: "close",
      "keep-alive": "timeout=5",
      "transfer-encoding": "chunked",
      "retry-after": "1",
    });
    expect(out).toEqual({ "content-type": "text/plain", "content-length": "5", "set-cookie": ["a=1", "b=2"], "retry-after": "1" });
  });
});

describe("body facts", () => {
  it.each([
    [{}, false, undefined],
    [{ "content-length": "0" }, false, 0],
    [{ "content-length": "10" }, true, 10],
    [{ "transfer-encoding": "chunked" }, true, undefined],
    [{ "content-length": "abc" }, true, undefined],
  ])("%j -> body %s, length %s", (headers, body, length) => {
    expect(hasRequestBody(headers)).toBe(body);
    expect(declaredLength(headers)).toBe(length);
  });
});
