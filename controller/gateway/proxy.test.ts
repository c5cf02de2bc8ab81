import { describe, expect, it, vi } from "vitest";
import { AgentPool, describeFailure, isRetryable } from "./proxy.ts";

describe("isRetryable", () => {
  it.each([
    // code, method, hasBody, bodySent, retryable
    ["ECONNREFUSED", "POST", true, false, true], // nothing reached the replica, body unread
    ["ECONNREFUSED", "GET", false, false, true],
    ["ECONNREFUSED", "POST", true, true, false],
    ["ECONNRESET", "GET", false, false, true],
    ["ECONNRESET", "HEAD", false, false, true],
    ["ECONNRESET", "OPTIONS", false, false, true],
    ["ECONNRESET", "GET", true, true, false], // a body was (partly) consumed
    ["ECONNRESET", "POST", false, false, false], // the replica may have acted on it
    ["ECONNRESET", "DELETE", false, false, false],
    ["EPIPE", "GET", false, false, true],
    ["ESKIFFRESPONSETIMEOUT", "GET", false, false, false],
    ["HPE_INVALID_CONSTANT", "GET", false, false, false],
    [undefined, "GET", false, false, false],
  ])("%s %s body=%s sent=%s -> %s", (code, method, hasBody, bodySent, expected) => {
    expect(isRetryable({ code, method, hasBody, bodySent })).toBe(expected);
  });
});

describe("describeFailure", () => {
  it("names the failure and its code", () => {
    expect(describeFailure(Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }))).toBe(
      "connection reset before a response (ECONNRESET)",
    );
    expect(describeFailure(Object.assign(new Error("x"), { code: "ECONNREFUSED" }))).toBe("connection refused (ECONNREFUSED)");
    expect(describeFailure(Object.assign(new Error("weird"), { code: "EWEIRD" }))).toBe("weird (EWEIRD)");
  });
});

describe("AgentPool", () => {
  const a = { id: "a", url: "http://127.0.0.1:4001" };
  const b = { id: "b", url: "http://[::1]:4002" };

  it("shares one agent per replica URL and parses its address", () => {
    const pool = new AgentPool();
    const l1 = pool.lease(a);
    const l2 = pool.lease(a);
    const l3 = pool.lease(b);
    expect(l1.agent).toBe(l2.agent);
    expect(l3.agent).not.toBe(l1.agent);
    expect([l1.host, l1.port, l3.host, l3.port]).toEqual(["127.0.0.1", 4001, "::1", 4002]);
    pool.destroyAll();
  });

  it("retires a busy agent only after its last request", () => {
    const pool = new AgentPool();
    const busy = pool.lease(a);
    const destroy = vi.spyOn(busy.agent, "destroy");
    pool.retainOnly(new Set());
    expect(destroy).not.toHaveBeenCalled();
    busy.release();
    expect(destroy).toHaveBeenCalledOnce();
    const fresh = pool.lease(a);
    expect(fresh.agent).not.toBe(busy.agent);
    pool.destroyAll();
  });

  it("keeps an idle agent whose replica is still live, and closes one that is not", () => {
    const pool = new AgentPool();
    const la = pool.lease(a);
    const lb = pool.lease(b);
    const destroyA = vi.spyOn(la.agent, "destroy");
    const destroyB = vi.spyOn(lb.agent, "destroy");
    la.release();
    lb.release();
    pool.retainOnly(new Set([a.url]));
    expect(destroyA).not.toHaveBeenCalled();
    expect(destroyB).toHaveBeenCalledOnce();
    expect(pool.lease(a).agent).toBe(la.agent);
    pool.destroyAll();
  });
});
