// Events on the local platform: CloudEvents published on NATS trigger functions through the
// gateway, replies chain stages, event-only functions wake from zero, bad events go to the
// dead-letter stream and `skiff dlq redrive` replays them.
import { jetstream } from "@nats-io/jetstream";
import { CloudEvent } from "cloudevents";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";
import { fromNatsMsg, NATS, publishEvent } from "../controller/events/index.ts";
import { connectNats } from "../controller/nats/index.ts";
import { deploy, functionVariant, startTestPlatform } from "./harness/platform.ts";
import { runSkiff } from "./harness/processes.ts";
import { describeWithNats } from "./harness/nats-server.ts";
import { waitFor } from "./harness/wait-for.ts";

const STAGE = fileURLToPath(new URL("./fixtures/stage", import.meta.url));

const stageYaml = (name: string, subject: string, reply: string, factor: number, extra = "") =>
  `name: ${name}\nentry: index.ts\nhttp: false\nevents:\n  - subject: ${subject}\n    reply: ${reply}\n    maxDeliver: 3\n    backoff: [100ms]\nscale: { min: 0, max: 2, scaleToZeroAfter: 0s }\nenv:\n  FACTOR: "${factor}"\n  REPLY_TYPE: ${name}.done\n${extra}`;

/** Collects CloudEvents arriving on a subject (core NATS). */
async function collect(natsUrl: string, subject: string) {
  const nc = await connectNats(natsUrl);
  const events: CloudEvent<unknown>[] = [];
  const sub = nc.subscribe(subject);
  void (async () => {
    for await (const msg of sub) events.push(NATS.toEvent(fromNatsMsg(msg)) as CloudEvent<unknown>);
  })();
  await nc.flush();
  return { events, close: () => nc.close() };
}

describeWithNats("events on the local platform", () => {
  it("chains two event-only functions from `skiff publish` to the final reply, waking each from zero", async () => {
    const platform = await startTestPlatform();
    await deploy(platform.client, await functionVariant(STAGE, stageYaml("double", "pipe.in", "pipe.mid", 2)));
    await deploy(platform.client, await functionVariant(STAGE, stageYaml("tenfold", "pipe.mid", "pipe.out", 10)));
    // Both go to zero (scaleToZeroAfter 0s) before the first event.
    await waitFor(async () => (await platform.client.list()).every((f) => f.replicas.desired === 0), { what: "both stages at zero", timeoutMs: 20_000 });
    const out = await collect(platform.natsUrl, "pipe.out");
    const published = await runSkiff(["publish", "pipe.in", "--type", "pipe.start", "--data", '{"n":3}', "--id", "evt-chain-1", "--state-dir", platform.stateDir]);
    expect(published.code, published.stderr).toBe(0);
    expect(published.stdout).toMatch(/published evt-chain-1 to pipe.in \(stored in JetStream seq \d+\)/);
    await waitFor(() => out.events.length > 0, { what: "the final reply on pipe.out", timeoutMs: 30_000 });
    const [final] = out.events;
    expect(final!.type).toBe("tenfold.done");
    expect(final!.data).toEqual({ n: 60, via: ["double", "tenfold"] });
    expect(Number(final!.skiffhops)).toBe(2);
    out.close();
  });

  it("dead-letters a 400 at once and a non-CloudEvent with the reason, keeps going, and redrives after a fix", async () => {
    const platform = await startTestPlatform();
    const dir = await functionVariant(STAGE, stageYaml("picky", "picky.in", "picky.out", 1));
    await deploy(platform.client, dir);
    const out = await collect(platform.natsUrl, "picky.out");
    const nc = await connectNats(platform.natsUrl);
    const js = jetstream(nc);
    // Not a CloudEvent at all, then a poison event (400), then a good one.
    await js.publish("picky.in", new TextEncoder().encode("just bytes"));
    await publishEvent(js, nc, "picky.in", new CloudEvent({ type: "t", source: "/test", id: "poison-1", data: { n: 1, poison: true } }));
    await publishEvent(js, nc, "picky.in", new CloudEvent({ type: "t", source: "/test", id: "good-1", data: { n: 5 } }));
    await waitFor(() => out.events.some((e) => (e.data as { n: number }).n === 5), { what: "the good event to be processed" });
    const letters = await waitFor(async () => {
      const list = await platform.client.dlqList("picky", {});
      return list.length === 2 ? list : undefined;
    }, { what: "two dead letters" });
    const poison = letters.find((l) => l.event?.id === "poison-1");
    expect(poison).toMatchObject({ status: 400, deliveries: 1, subject: "picky.in" });
    expect(poison!.error).toMatch(/poison event refused/);
    const garbage = letters.find((l) => !l.event);
    expect(garbage!.reason).toMatch(/invalid|not a CloudEvent|unsupported/i);
    // Fix the function (accept poison) and replay: the event is processed and its letter removed.
    const fixed = await functionVariant(STAGE, stageYaml("picky", "picky.in", "picky.out", 1, '  ACCEPT_POISON: "yes"\n'));
    await deploy(platform.client, fixed);
    const redriven = await runSkiff(["dlq", "redrive", "picky", "--state-dir", platform.stateDir, "--json"]);
    expect(JSON.parse(redriven.stdout)).toEqual({ redriven: 1, failed: 1, remaining: 1 });
    await waitFor(() => out.events.some((e) => (e.data as { n: number; via: string[] }).n === 1), { what: "the redriven event's reply" });
    await nc.close();
    out.close();
  });
});
