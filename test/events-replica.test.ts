// An event from NATS to a real function replica and back: the dispatcher delivers over HTTP in
// CloudEvents binary mode (httpDeliver) to a running functions/echo-event, and the echoed reply is
// published on the trigger's reply subject, where it triggers the next function of a pipeline.
import { fileURLToPath } from "node:url";
import { CloudEvent } from "cloudevents";
import { afterAll, beforeAll, expect, it } from "vitest";
import { httpDeliver, type Dispatcher } from "../controller/events/index.ts";
import { describeWithNats } from "./harness/nats-server.ts";
import { startBuiltReplica, waitReady, type RunningReplica } from "./harness/replica.ts";
import { waitFor } from "./harness/wait-for.ts";
import { applyTopology, dispatch, fnSpec, publishAll, startEventsEnv, type EventsEnv } from "./events-support.ts";

const ECHO = fileURLToPath(new URL("../functions/echo-event", import.meta.url));

describeWithNats("events through a real replica", () => {
  let env: EventsEnv;
  let echo: RunningReplica;
  const running: Dispatcher[] = [];

  beforeAll(async () => {
    [env, echo] = await Promise.all([startEventsEnv(), startBuiltReplica(ECHO)]);
    await waitReady(echo.url);
  });
  afterAll(async () => {
    await Promise.all(running.map((d) => d.stop()));
    await env?.close();
  });

  it("delivers in HTTP binary mode and publishes the echoed reply on the reply subject", async () => {
    const topology = await applyTopology(env, [
      fnSpec("echo-event", [{ subject: "pipe.in", reply: "pipe.echoed" }]),
      fnSpec("sink", [{ subject: "pipe.echoed" }]),
    ]);
    const echoPlan = topology.consumers.find((c) => c.fn === "echo-event")!;
    const sinkPlan = topology.consumers.find((c) => c.fn === "sink")!;
    running.push(dispatch(env, echoPlan, httpDeliver({ url: () => `${echo.url}/`, timeoutMs: () => 10_000 })));
    const received: CloudEvent<unknown>[] = [];
    running.push(dispatch(env, sinkPlan, async (event) => (received.push(event), { status: 200 })));

    const sent = [
      new CloudEvent<unknown>({ id: "json-1", source: "/cameras/front", type: "image.captured", datacontenttype: "application/json", data: { boxes: [[1, 2, 3, 4]], label: "café ☕" } }),
      new CloudEvent<unknown>({ id: "bytes-1", source: "/cameras/back", type: "image.raw", datacontenttype: "application/octet-stream", data: Uint8Array.from([0, 1, 2, 253, 254, 255]) }),
      new CloudEvent<unknown>({ id: "text 1 ✓", source: "/notes", type: "note.written", subject: "a b", datacontenttype: "text/plain", data: "zeile 1\nzeile 2" }),
    ];
    await publishAll(env, "pipe.in", sent);
    await waitFor(() => received.length === sent.length, { what: "three echoed replies at the next function", timeoutMs: 15_000 });

    for (const original of sent) {
      const reply = received.find((r) => r.id === original.id)!;
      expect(reply, `reply to ${original.id}`).toBeDefined();
      expect({ id: reply.id, type: reply.type, source: reply.source, subject: reply.subject, datacontenttype: reply.datacontenttype })
        .toEqual({ id: original.id, type: original.type, source: original.source, subject: original.subject, datacontenttype: original.datacontenttype });
      expect(reply.data instanceof Uint8Array ? [...reply.data] : reply.data).toEqual(original.data instanceof Uint8Array ? [...original.data] : original.data);
      expect(reply.skiffhops).toBe("1");
    }
    expect(running[0]!.stats()).toMatchObject({ delivered: 3, acked: 3, replies: 3, deadLettered: 0 });
  });
});
