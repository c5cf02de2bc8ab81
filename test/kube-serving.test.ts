// Serving in Kubernetes mode, end to end against a real kube-apiserver: the controller (as
// the manifests' controller role) makes the revision's objects, a fake node (the test playing
// the kubelet and the EndpointSlice controller) runs the Deployment's replicas as runtime
// processes, and the gateway (as the manifests' gateway role) routes requests to them by
// their EndpointSlices, scales the revision to zero when idle and back to one on a request.
import { AppsV1Api, CustomObjectsApi } from "@kubernetes/client-node";
import { afterAll, beforeAll, expect, it } from "vitest";
import { loadAndBuild } from "../cli/build-function.ts";
import type { FunctionObject, KubeController, KubeGateway } from "../controller/kube/index.ts";
import { FUNCTION_API } from "../controller/kube/names.ts";
import { describeWithKube, type KubeControlPlane } from "./harness/kube.ts";
import { startKubePlatform, stopKubePlatform } from "./harness/kube-platform.ts";
import type { FakeNode } from "./harness/kube-node.ts";
import { REPO_ROOT } from "./harness/processes.ts";
import { waitFor } from "./harness/wait-for.ts";
import { collect, publishAll, startEventsEnv, testEvent, type EventsEnv } from "./events-support.ts";

const { group, version, plural } = FUNCTION_API;
const NS = "serving";

describeWithKube("kubernetes serving: gateway, autoscaler and controller on a fake node", () => {
  let plane: KubeControlPlane;
  let controller: KubeController | undefined;
  let gateway: KubeGateway | undefined;
  let node: FakeNode | undefined;
  let custom: CustomObjectsApi;
  let apps: AppsV1Api;
  let revision = "";
  let nats: EventsEnv | undefined;

  const getFunction = async () => (await custom.getNamespacedCustomObject({ group, version, plural, namespace: NS, name: "hello" })) as FunctionObject;
  const replicasOf = async () => (await apps.readNamespacedDeployment({ namespace: NS, name: revision })).spec?.replicas;

  beforeAll(async () => {
    const build = await loadAndBuild(`${REPO_ROOT}/functions/hello`);
    const echo = await loadAndBuild(`${REPO_ROOT}/functions/echo-event`);
    const behaviours = await loadAndBuild(`${REPO_ROOT}/test/fixtures/behaviours`);
    nats = await startEventsEnv();
    const bundles: Array<[string, string]> = [["echo-event-", echo.outDir], ["behaviours-", behaviours.outDir]];
    ({ plane, node, controller, gateway } = await startKubePlatform({
      namespace: NS,
      bundleDir: (rev) => bundles.find(([prefix]) => rev.startsWith(prefix))?.[1] ?? build.outDir,
      natsUrl: nats.server.url,
    }));
    const kc = plane.kubeConfig();
    custom = kc.makeApiClient(CustomObjectsApi);
    apps = kc.makeApiClient(AppsV1Api);
  }, 180_000);

  afterAll(async () => {
    await stopKubePlatform({ gateway, controller, node, plane });
    await nats?.close();
  });

  it("a Function turns Ready once its first replica's endpoint is ready, and answers through the gateway", async () => {
    await custom.createNamespacedCustomObject({
      group, version, plural, namespace: NS,
      body: {
        apiVersion: `${group}/${version}`, kind: "Function", metadata: { name: "hello", namespace: NS },
        spec: { image: "registry.example/hello:1", http: true, scale: { min: 0, max: 5, concurrency: 50, window: "6s", scaleToZeroAfter: "2s" }, timeout: "10s" },
      },
    });
    const ready = await waitFor(async () => {
      const fn = await getFunction();
      return fn.status?.conditions?.find((c) => c.type === "Ready" && c.status === "True") ? fn : undefined;
    }, { what: "Ready=True on the Function", timeoutMs: 30_000 });
    revision = ready.status!.latestRevision!;
    expect(ready.status).toMatchObject({ readyReplicas: 1, url: "http://gateway.test/fn/hello/" });
    const response = await fetch(`${gateway!.url}/fn/hello/`);
    expect(response.status).toBe(200);
    expect(await response.text()).toMatch(/hello/i);
  });

  it("scales the revision's Deployment to zero when idle, and back to one on the next request", async () => {
    await waitFor(async () => (await replicasOf()) === 0, { what: "the Deployment at 0 replicas after scaleToZeroAfter", timeoutMs: 40_000, intervalMs: 200 });
    await node!.waitForReady(revision, 0, { timeoutMs: 20_000 });
    // Scaled to zero after it was ready: still Ready (the gateway wakes it), as Knative's.
    await waitFor(async () => (await getFunction()).status?.conditions?.find((c) => c.type === "Ready")?.reason === "ScaledToZero", { what: "Ready/ScaledToZero", timeoutMs: 15_000 });

    const started = Date.now();
    const response = await fetch(`${gateway!.url}/fn/hello/`);
    const coldMs = Date.now() - started;
    expect(response.status).toBe(200);
    expect(await replicasOf()).toBe(1);
    expect(gateway!.gateway.stats("hello")?.coldStarts.count).toBeGreaterThanOrEqual(1);
    console.log(`kube scale from zero: first response after ${coldMs}ms`);
  });

  it("sends concurrent requests at zero to the one replica that comes up, none lost", async () => {
    await waitFor(async () => (await replicasOf()) === 0, { what: "the Deployment back at 0", timeoutMs: 40_000, intervalMs: 200 });
    await node!.waitForReady(revision, 0, { timeoutMs: 20_000 });
    const statuses = await Promise.all(Array.from({ length: 20 }, () => fetch(`${gateway!.url}/fn/hello/`).then((r) => r.status)));
    expect(statuses.filter((s) => s === 200)).toHaveLength(20);
  });

  it("delivers an event to an event-only Function at zero through JetStream and the gateway, and publishes its reply", async () => {
    await custom.createNamespacedCustomObject({
      group, version, plural, namespace: NS,
      body: {
        apiVersion: `${group}/${version}`, kind: "Function", metadata: { name: "echo-event", namespace: NS },
        spec: { image: "registry.example/echo-event:1", http: false, events: [{ subject: "echo.in", reply: "echo.out" }], timeout: "10s", scale: { min: 0, max: 2, concurrency: 10, scaleToZeroAfter: "2s" } },
      },
    });
    // Created with one replica to prove the revision; wait for it to go back to zero first.
    const echoRevision = await waitFor(async () => ((await custom.getNamespacedCustomObject({ group, version, plural, namespace: NS, name: "echo-event" })) as FunctionObject).status?.latestRevision, { what: "echo-event's revision", timeoutMs: 15_000 });
    await waitFor(async () => (await apps.readNamespacedDeployment({ namespace: NS, name: echoRevision })).spec?.replicas === 0, { what: "echo-event at zero", timeoutMs: 40_000, intervalMs: 200 });
    await node!.waitForReady(echoRevision, 0, { timeoutMs: 20_000 });
    const replies = collect(nats!, "echo.out");
    await publishAll(nats!, "echo.in", [testEvent("kube-1"), testEvent("kube-2")]);
    await waitFor(() => replies.events.length >= 2, { what: "two replies on echo.out", timeoutMs: 30_000 });
    expect(replies.events.map((e) => e.id).sort()).toEqual(["kube-1", "kube-2"]);
    replies.sub.unsubscribe();
    // Event-only: not reachable over HTTP through the gateway.
    expect((await fetch(`${gateway!.url}/fn/echo-event/`, { method: "POST" })).status).toBe(404);
  });

  it("keeps serving from the old revision while an updated one starts, then moves to it with nothing failed", async () => {
    const spec = (greeting: string, initDelayMs: number) => ({
      image: "registry.example/behaviours:1", timeout: "1s", maxBodySize: "1kb", scale: { min: 0, max: 3, concurrency: 2 },
      env: { INIT_DELAY_MS: String(initDelayMs), GREETING: greeting },
    });
    await custom.createNamespacedCustomObject({ group, version, plural, namespace: NS, body: { apiVersion: `${group}/${version}`, kind: "Function", metadata: { name: "behaviours", namespace: NS }, spec: spec("v1", 0) } });
    const hello = () => fetch(`${gateway!.url}/fn/behaviours/hello`).then(async (r) => ({ status: r.status, text: await r.text() }));
    await waitFor(async () => (await hello()).text === "v1 from behaviours", { what: "v1 answering", timeoutMs: 30_000, intervalMs: 100 });
    const v1 = gateway!.serving("behaviours")!;
    const current = (await custom.getNamespacedCustomObject({ group, version, plural, namespace: NS, name: "behaviours" })) as FunctionObject;
    // v2's replicas take 2.5 s to turn ready (a slow init, like a model load).
    await custom.replaceNamespacedCustomObject({ group, version, plural, namespace: NS, name: "behaviours", body: { ...current, spec: spec("v2", 2500) } });
    const answers: Array<{ status: number; text: string; ms: number }> = [];
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && answers.at(-1)?.text !== "v2 from behaviours") {
      const started = Date.now();
      answers.push({ ...(await hello()), ms: Date.now() - started });
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(answers.at(-1)?.text).toBe("v2 from behaviours");
    expect(answers.filter((a) => a.status !== 200)).toEqual([]);
    const servedByV1 = answers.filter((a) => a.text === "v1 from behaviours");
    // While v2 started, v1 answered at once: nobody waited for v2's slow init.
    expect(servedByV1.length).toBeGreaterThan(5);
    expect(Math.max(...servedByV1.map((a) => a.ms))).toBeLessThan(1000);
    expect(gateway!.serving("behaviours")).not.toBe(v1);
    // The controller retires v1 once v2 serves; requests keep flowing while v1's replica drains
    // (it takes requests for SKIFF_DRAIN_DELAY_MS after SIGTERM, until the gateway has seen it go).
    let retired = false;
    const during: number[] = [];
    const retire = waitFor(async () => (await apps.listNamespacedDeployment({ namespace: NS, labelSelector: "skiff.dev/function=behaviours" })).items.length === 1, { what: "v1's Deployment to be deleted", timeoutMs: 15_000 })
      .then(() => node!.waitForReady(v1, 0, { timeoutMs: 20_000 }))
      .finally(() => (retired = true));
    while (!retired) during.push((await hello()).status);
    await retire;
    expect(during.filter((s) => s !== 200)).toEqual([]);
    expect(during.length).toBeGreaterThan(5);
  });

  it("answers 404 for a function the namespace does not have", async () => {
    const response = await fetch(`${gateway!.url}/fn/nope/`);
    expect(response.status).toBe(404);
  });
});
