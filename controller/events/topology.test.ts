import { describe, expect, it } from "vitest";
import { validateFunctionSpec } from "../../spec/index.ts";
import type { FunctionSpec } from "../../spec/types.ts";
import { changedConsumerFields, nextStreamConfig } from "./reconcile.ts";
import { consumerNameOf, DLQ_STREAM, EVENTS_STREAM, makeStreamPlans, makeTopology, subjectOfDlq } from "./topology.ts";

const spec = (name: string, events: unknown[], extra: Record<string, unknown> = {}): { fn: string; spec: FunctionSpec } =>
  ({ fn: name, spec: validateFunctionSpec({ name, events, ...extra }) });

describe("makeTopology", () => {
  const functions = [
    spec("a", [{ subject: "orders.created" }, { subject: "orders.*", reply: "a.out" }], { timeout: "20s", scale: { max: 3, concurrency: 4 } }),
    spec("b", [{ subject: "orders.created", type: "com.shop.order", maxDeliver: 7, backoff: ["1s"] }]),
    spec("c", [{ subject: "skiff.dlq.a" }]),
    spec("d", [{ subject: "skiff.>" }, { subject: "ocr.*.c" }, { subject: "ocr.b.*" }]),
  ];
  const topology = makeTopology(functions);

  it("stores every trigger subject once, dropping covered ones and generalizing partial overlaps", () => {
    const events = topology.streams.find((s) => s.name === EVENTS_STREAM)!;
    expect(events.config.subjects).toEqual(["ocr.*.*", "orders.*"]);
    expect(events.config).toMatchObject({
      retention: "limits", storage: "file", discard: "old",
      max_age: 7 * 86_400_000 * 1e6, duplicate_window: 120_000 * 1e6, max_bytes: 1024 ** 3,
    });
  });

  it("always plans the dead-letter stream on skiff.dlq.>", () => {
    expect(topology.streams.find((s) => s.name === DLQ_STREAM)!.config).toMatchObject({ subjects: ["skiff.dlq.>"], retention: "limits", storage: "file" });
    expect(subjectOfDlq("ocr-detect")).toBe("skiff.dlq.ocr-detect");
  });

  it("plans one consumer per (function, trigger), named skiff-<fn>-<8 hex>", () => {
    expect(topology.consumers.map((c) => [c.fn, c.trigger.subject, c.stream])).toEqual([
      ["a", "orders.created", EVENTS_STREAM], ["a", "orders.*", EVENTS_STREAM], ["b", "orders.created", EVENTS_STREAM],
      ["c", "skiff.dlq.a", DLQ_STREAM], ["d", "ocr.*.c", EVENTS_STREAM], ["d", "ocr.b.*", EVENTS_STREAM],
    ]);
    for (const c of topology.consumers) expect(c.name).toMatch(new RegExp(`^skiff-${c.fn}-[0-9a-f]{8}$`));
    expect(new Set(topology.consumers.map((c) => c.name)).size).toBe(topology.consumers.length);
  });

  it("consumer names depend on subject and type only", () => {
    const base = { subject: "orders.created" };
    expect(consumerNameOf("a", base)).toBe(consumerNameOf("a", { ...base, type: undefined }));
    expect(consumerNameOf("a", base)).not.toBe(consumerNameOf("a", { ...base, type: "t" }));
    expect(consumerNameOf("a", { subject: "a.b", type: "c" })).not.toBe(consumerNameOf("a", { subject: "a.bc", type: "" }));
    expect(consumerNameOf("a", base)).not.toBe(consumerNameOf("b", base));
  });

  it("configures consumers from the trigger and the function", () => {
    const [first] = topology.consumers;
    expect(first!.config).toEqual({
      durable_name: first!.name,
      description: "skiff: a on orders.created",
      filter_subject: "orders.created",
      ack_policy: "explicit",
      deliver_policy: "all",
      max_deliver: 6, // maxDeliver 5 plus the spare delivery that only dead-letters
      ack_wait: 30_000 * 1e6, // timeout 20s + 10s
      max_ack_pending: 24, // 2 x capacity (scale.max 3 * concurrency 4)
    });
    expect(first!.capacity).toBe(12);
    const b = topology.consumers.find((c) => c.fn === "b")!;
    expect(b.config).toMatchObject({ max_deliver: 8, description: "skiff: b on orders.created (type com.shop.order)" });
    expect(b.config).not.toHaveProperty("backoff");
  });

  it("rejects subjects that would overlap the dead-letter stream, and duplicate triggers", () => {
    // The spec validator refuses this too; the topology must not depend on it.
    const one = spec("e", [{ subject: "x.y" }]);
    const dup = makeTopology([{ ...one, spec: { ...one.spec, events: [one.spec.events[0]!, { ...one.spec.events[0]!, reply: "z" }] } }]);
    expect(topology.rejected).toEqual([{ fn: "d", subject: "skiff.>", reason: "overlaps the dead-letter subjects skiff.dlq.>" }]);
    expect(dup.rejected).toEqual([{ fn: "e", subject: "x.y", reason: expect.stringContaining("duplicate trigger") }]);
    expect(dup.consumers).toHaveLength(1);
    const own = makeTopology([spec("self", [{ subject: "skiff.dlq.self" }, { subject: "skiff.dlq.*" }, { subject: "skiff.dlq.other" }])]);
    expect(own.rejected.map((r) => [r.subject, r.reason])).toEqual([
      ["skiff.dlq.self", "consumes the function's own dead letters (a loop)"], ["skiff.dlq.*", "consumes the function's own dead letters (a loop)"],
    ]);
    expect(own.consumers.map((c) => [c.trigger.subject, c.stream])).toEqual([["skiff.dlq.other", DLQ_STREAM]]);
  });

  it("plans no events stream without triggers, and honours options", () => {
    expect(makeTopology([spec("h", [])]).streams.map((s) => s.name)).toEqual([DLQ_STREAM]);
    const tuned = makeTopology([spec("t", [{ subject: "t" }], { timeout: "1s" })], { ackWaitMarginMs: 500, deliverPolicy: "new", maxAgeMs: 1_000 });
    expect(tuned.consumers[0]!.config).toMatchObject({ ack_wait: 1_500 * 1e6, deliver_policy: "new" });
    expect(tuned.streams[0]!.config.max_age).toBe(1e9);
  });
});

describe("reconcile comparisons", () => {
  const [plan] = makeStreamPlans(["a.b", "c"]);
  const existing = { ...plan!.config, subjects: ["a.b", "c"] } as never;

  it("leaves a matching stream alone and only ever adds subjects", () => {
    expect(nextStreamConfig(existing, plan!)).toBeUndefined();
    expect(nextStreamConfig(existing, { ...plan!, config: { ...plan!.config, subjects: ["c"] } })).toBeUndefined();
    expect(nextStreamConfig(existing, { ...plan!, config: { ...plan!.config, subjects: ["a.*"] } })?.subjects).toEqual(["a.*", "c"]);
    expect(nextStreamConfig(existing, { ...plan!, config: { ...plan!.config, max_age: 5 } })).toMatchObject({ subjects: ["a.b", "c"], max_age: 5 });
  });

  it("compares only the consumer fields we set (the server fills in defaults)", () => {
    const server = { durable_name: "x", ack_wait: 5e9, max_deliver: 3, replay_policy: "instant", max_waiting: 512 } as never;
    expect(changedConsumerFields(server, { durable_name: "x", ack_wait: 5e9, max_deliver: 3 })).toEqual([]);
    expect(changedConsumerFields(server, { durable_name: "x", ack_wait: 6e9, max_deliver: 3, max_ack_pending: 4 })).toEqual(["ack_wait", "max_ack_pending"]);
  });
});
