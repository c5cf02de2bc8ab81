import { describe, expect, it } from "vitest";
import { httpErrorOf, QueueFullError, ReplicaFailedError, UnknownFunctionError } from "./errors.ts";
import { renderMetrics, RevisionStats, summarize } from "./metrics.ts";

describe("gateway metrics", () => {
  const r1 = new RevisionStats("hello", "hello-r1");
  r1.recordRequest(200);
  r1.recordRequest(200);
  r1.recordRequest(503);
  r1.recordColdStart(40);
  r1.recordColdStart(1500);
  r1.queueFull = 1;
  const r2 = new RevisionStats("hello", "hello-r2");
  r2.recordRequest(200);
  r2.recordColdStart(200_000);
  r2.retries = 2;

  it("sums a function's revisions for stats()", () => {
    const stats = summarize("hello", [
      { stats: r1, inFlight: 1, queued: 2 },
      { stats: r2, inFlight: 3, queued: 0 },
    ]);
    expect(stats).toEqual({
      fn: "hello",
      revisions: ["hello-r1", "hello-r2"],
      inFlight: 4,
      queued: 2,
      requests: { "200": 3, "503": 1 },
      coldStarts: { count: 3, totalWaitMs: 201_540, maxWaitMs: 200_000 },
      rejected: { queueFull: 1, queueTimeout: 0 },
      retries: 2,
      replicaFailures: 0,
    });
  });

  it("renders Prometheus text with cumulative cold-start buckets", () => {
    const text = renderMetrics([{ stats: r1, inFlight: 1, queued: 2 }], new Map([[404, 5]]));
    expect(text).toContain('skiff_gateway_requests_total{fn="hello",revision="hello-r1",code="200"} 2\n');
    expect(text).toContain('skiff_gateway_requests_total{fn="",revision="",code="404"} 5\n');
    expect(text).toContain('skiff_gateway_in_flight{fn="hello",revision="hello-r1"} 1\n');
    expect(text).toContain('skiff_gateway_queued{fn="hello",revision="hello-r1"} 2\n');
    expect(text).toContain('skiff_gateway_cold_starts_total{fn="hello",revision="hello-r1"} 2\n');
    expect(text).toContain('skiff_gateway_cold_start_wait_seconds_bucket{fn="hello",revision="hello-r1",le="0.05"} 1\n');
    expect(text).toContain('skiff_gateway_cold_start_wait_seconds_bucket{fn="hello",revision="hello-r1",le="1"} 1\n');
    expect(text).toContain('skiff_gateway_cold_start_wait_seconds_bucket{fn="hello",revision="hello-r1",le="2.5"} 2\n');
    expect(text).toContain('skiff_gateway_cold_start_wait_seconds_bucket{fn="hello",revision="hello-r1",le="+Inf"} 2\n');
    expect(text).toContain('skiff_gateway_cold_start_wait_seconds_sum{fn="hello",revision="hello-r1"} 1.54\n');
    expect(text).toContain('skiff_gateway_rejected_total{fn="hello",revision="hello-r1",reason="queue_full"} 1\n');
    expect(text).toContain("# TYPE skiff_gateway_cold_start_wait_seconds histogram\n");
    // Every sample line is `name{labels} value`.
    for (const line of text.trim().split("\n")) expect(line).toMatch(/^(# (HELP|TYPE) \S+ .+|[a-z_]+(\{.*\})? [\d.e+-]+)$/);
  });
});

describe("httpErrorOf", () => {
  it("maps each error to one status and a JSON body naming the function", () => {
    expect(httpErrorOf(new UnknownFunctionError("x"), "r1")).toEqual({
      status: 404,
      headers: {},
      body: { error: 'no function named "x"', reason: "unknown-function", fn: "x", requestId: "r1" },
    });
    expect(httpErrorOf(new QueueFullError("hello", 3, 0))).toMatchObject({ status: 503, headers: { "retry-after": "1" } });
    expect(httpErrorOf(new ReplicaFailedError("hello-r7", "connection refused (ECONNREFUSED)")).body.error).toBe(
      "replica hello-r7 failed: connection refused (ECONNREFUSED)",
    );
    // Unexpected errors do not leak their message.
    expect(httpErrorOf(new Error("secret path /etc/x"))).toMatchObject({ status: 500, body: { error: "internal gateway error" } });
  });
});
