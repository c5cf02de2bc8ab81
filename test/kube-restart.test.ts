// "Do the bad thing" in Kubernetes mode: restart the kube-apiserver under a running controller,
// gateway and fake node, with requests flowing, and count what is lost (nothing may be). While
// the apiserver is down the gateway serves from its cached routes and endpoints; after it is
// back every informer restarts its watch by itself (no component is restarted), so a change
// made afterwards rolls a new revision, becomes Ready and takes the traffic as usual, and a
// controller started afterwards finds nothing to write. The watches come back in no set order:
// the last test holds the gateway's Function watch back to check that a new revision's
// Deployment, seen before the Function naming it, is not taken for an old one and scaled to zero.
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

const { group, version, plural } = FUNCTION_API;
const NS = "restart";
const CONCURRENCY = 4;

/** A logger that keeps every line (KUBE_TEST_LOG=1 also prints them). */
function recordingLogger(who: string) {
  const lines: Array<{ level: "info" | "warn" | "error"; msg: string; fields?: Record<string, unknown>; atMs: number }> = [];
  const log = (level: "info" | "warn" | "error") => (msg: string, fields?: Record<string, unknown>) => {
    lines.push({ level, msg, ...(fields && { fields }), atMs: Date.now() });
    if (process.env.KUBE_TEST_LOG) console.log(`${new Date().toISOString()} [${who}] ${level.toUpperCase()} ${msg}`, JSON.stringify(fields ?? {}));
  };
  return { lines, info: log("info"), warn: log("warn"), error: log("error") };
}

interface Answer {
  startedAtMs: number;
  ms: number;
  status: number | string;
}

/** CONCURRENCY sequential GET loops through the gateway until stop() (or maxMs), every answer kept. */
function startLoad(url: string, maxMs: number) {
  const answers: Answer[] = [];
  let stopping = false;
  const deadline = Date.now() + maxMs;
  const loop = async () => {
    while (!stopping && Date.now() < deadline) {
      const startedAtMs = Date.now();
      const status = await fetch(url, { signal: AbortSignal.timeout(10_000) }).then(
        async (r) => (await r.text(), r.status),
        (error: Error) => `${error.name}: ${error.message}`,
      );
      answers.push({ startedAtMs, ms: Date.now() - startedAtMs, status });
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const done = Promise.all(Array.from({ length: CONCURRENCY }, loop));
  return {
    answers,
    async stop(): Promise<Answer[]> {
      stopping = true;
      await done;
      return answers;
    },
  };
}

describeWithKube("kubernetes mode survives a kube-apiserver restart", () => {
  let plane: KubeControlPlane;
  let controller: KubeController | undefined;
  let gateway: KubeGateway | undefined;
  let node: FakeNode | undefined;
  let custom: CustomObjectsApi;
  let apps: AppsV1Api;
  let firstRevision = "";
  let restartedAtMs = 0;
  let backAtMs = 0;
  const controllerLog = recordingLogger("controller");
  const gatewayLog = recordingLogger("gateway");
  const nodeLog = recordingLogger("node");

  const getFunction = async () => (await custom.getNamespacedCustomObject({ group, version, plural, namespace: NS, name: "hello" })) as FunctionObject;
  const deploymentNames = async () => (await apps.listNamespacedDeployment({ namespace: NS, labelSelector: "skiff.dev/function=hello" })).items.map((d) => d.metadata!.name!);
  let startController: () => Promise<KubeController>;
  const watchFailures = (log: ReturnType<typeof recordingLogger>) => log.lines.filter((l) => l.level === "warn" && /^watch of .* failed; restarting/.test(l.msg));
  /** Waits until every retry announced so far is a second past: each watch is back (or a new warning would say so). */
  const retriesOver = async () => {
    const due = [...controllerLog.lines, ...gatewayLog.lines, ...nodeLog.lines].map((l) => l.atMs + Number(/restarting in (\d+)ms/.exec(l.msg)?.[1] ?? 0));
    await new Promise((r) => setTimeout(r, Math.max(0, Math.max(...due) + 1_000 - Date.now())));
  };

  beforeAll(async () => {
    const build = await loadAndBuild(`${REPO_ROOT}/functions/hello`);
    const platform = await startKubePlatform({ namespace: NS, bundleDir: () => build.outDir, loggers: { controller: controllerLog, gateway: gatewayLog, node: nodeLog } });
    ({ plane, node, controller, gateway } = platform);
    startController = platform.startController;
    const kc = plane.kubeConfig();
    custom = kc.makeApiClient(CustomObjectsApi);
    apps = kc.makeApiClient(AppsV1Api);
  }, 180_000);

  afterAll(async () => {
    await stopKubePlatform({ gateway, controller, node, plane });
  });

  it("serves a Function with one replica kept up", async () => {
    await custom.createNamespacedCustomObject({
      group, version, plural, namespace: NS,
      body: {
        apiVersion: `${group}/${version}`, kind: "Function", metadata: { name: "hello", namespace: NS },
        spec: { image: "registry.example/hello:1", http: true, scale: { min: 1, max: 2, concurrency: 50 }, timeout: "10s" },
      },
    });
    const ready = await waitFor(async () => {
      const fn = await getFunction();
      return fn.status?.conditions?.find((c) => c.type === "Ready" && c.status === "True") ? fn : undefined;
    }, { what: "Ready=True on the Function", timeoutMs: 30_000 });
    firstRevision = ready.status!.latestRevision!;
    await node!.waitForReady(firstRevision, 1, { timeoutMs: 20_000 });
    await waitFor(async () => (await fetch(`${gateway!.url}/fn/hello/`)).status === 200, { what: "a 200 through the gateway", timeoutMs: 15_000 });
    expect(gateway!.serving("hello")).toBe(firstRevision);
    expect(watchFailures(controllerLog)).toEqual([]);
    expect(watchFailures(gatewayLog)).toEqual([]);
  });

  it("answers every request while the apiserver restarts, from the gateway's cached endpoints", async () => {
    const load = startLoad(`${gateway!.url}/fn/hello/`, 120_000);
    await new Promise((r) => setTimeout(r, 1_000));
    restartedAtMs = Date.now();
    if (process.env.KUBE_TEST_LOG) console.log(`${new Date().toISOString()} restarting`);
    await plane.restartApiserver();
    backAtMs = Date.now();
    if (process.env.KUBE_TEST_LOG) console.log(`${new Date().toISOString()} restarted`);
    await new Promise((r) => setTimeout(r, 2_000));
    const answers = await load.stop();
    const during = answers.filter((a) => a.startedAtMs >= restartedAtMs && a.startedAtMs < backAtMs);
    console.log(`kube-apiserver restart took ${backAtMs - restartedAtMs}ms; ${answers.length} requests, ${during.length} of them while it restarted`);
    expect(answers.filter((a) => a.status !== 200)).toEqual([]);
    expect(during.length).toBeGreaterThan(20);
    expect(answers.filter((a) => a.startedAtMs >= backAtMs).length).toBeGreaterThan(10);
    expect(gateway!.serving("hello")).toBe(firstRevision);
    // The outage was seen: both lost their watches and said they would restart them.
    expect(watchFailures(controllerLog).length).toBeGreaterThan(0);
    expect(watchFailures(gatewayLog).length).toBeGreaterThan(0);
  });

  it("recovers by itself: a change after the restart rolls a new revision that takes the traffic, nothing lost", async () => {
    // The watches come back on their own; the change is made once they have (a change made
    // while only the gateway's Function watch is still down is the last test's).
    await retriesOver();
    const load = startLoad(`${gateway!.url}/fn/hello/`, 90_000);
    const changedAtMs = Date.now();
    const current = await getFunction();
    await custom.replaceNamespacedCustomObject({ group, version, plural, namespace: NS, name: "hello", body: { ...current, spec: { ...current.spec, env: { GREETING_SOURCE: "after-restart" } } } });
    const next = await waitFor(async () => {
      const latest = (await getFunction()).status?.latestRevision;
      return latest !== undefined && latest !== firstRevision ? latest : undefined;
    }, { what: "a new revision in the Function's status", timeoutMs: 30_000 });
    expect(await deploymentNames()).toContain(next);
    await node!.waitForReady(next, 1, { timeoutMs: 30_000 });
    await waitFor(() => gateway!.serving("hello") === next, { what: `the gateway to move traffic to ${next}`, timeoutMs: 30_000 });
    await waitFor(async () => {
      const status = (await getFunction()).status;
      return status?.latestReadyRevision === next && status.conditions?.some((c) => c.type === "Ready" && c.status === "True");
    }, { what: `Ready on ${next}`, timeoutMs: 30_000 });
    // The old revision is retired once the new one serves: one Deployment left, the new one.
    await waitFor(async () => {
      const names = await deploymentNames();
      return names.length === 1 && names[0] === next;
    }, { what: `only ${next}'s Deployment to remain`, timeoutMs: 30_000 });
    await node!.waitForReady(firstRevision, 0, { timeoutMs: 30_000 });
    await new Promise((r) => setTimeout(r, 500));
    const answers = await load.stop();
    console.log(`after the restart: the change served ${Date.now() - changedAtMs}ms after it was made; ${answers.length} requests`);
    expect(answers.filter((a) => a.status !== 200)).toEqual([]);
    expect(answers.length).toBeGreaterThan(10);
    expect(gateway!.serving("hello")).toBe(next);
  });

  it("a controller started after the apiserver restart writes nothing", async () => {
    await controller!.idle();
    const before = await deploymentNames();
    await controller!.stop();
    controller = undefined;
    controller = await startController();
    await controller.idle();
    await new Promise((r) => setTimeout(r, 500));
    await controller.idle();
    expect(await deploymentNames()).toEqual(before);
    expect(controller.counters).toMatchObject({ created: 0, updated: 0, deleted: 0, statusWrites: 0, finalizerWrites: 0 });
    expect(controller.counters.passes).toBeGreaterThan(0);
  });

  it("a second restart loses nothing either, and every watch's backoff starts over from its first delay", async () => {
    await retriesOver();
    const logs = { controller: controllerLog, gateway: gatewayLog, node: nodeLog };
    const seen = Object.fromEntries(Object.entries(logs).map(([who, log]) => [who, log.lines.length]));
    const load = startLoad(`${gateway!.url}/fn/hello/`, 60_000);
    await new Promise((r) => setTimeout(r, 500));
    await plane.restartApiserver();
    await new Promise((r) => setTimeout(r, 1_000));
    const answers = await load.stop();
    expect(answers.filter((a) => a.status !== 200)).toEqual([]);
    // The first retry of each watch after this outage waits the base delay, not where the first outage left off
    // (all three kinds of informer recovered: each relisted, or resumed its watch, since then).
    const firstDelays = Object.fromEntries(Object.entries(logs).map(([who, log]) => {
      const first = new Map<string, string>();
      for (const { msg } of log.lines.slice(seen[who])) {
        const match = /watch of (\w+) failed; restarting in (\d+)ms/.exec(msg);
        if (match && !first.has(match[1]!)) first.set(match[1]!, `${match[2]}ms`);
      }
      return [who, Object.fromEntries(first)];
    }));
    const base = { deployments: "200ms", endpointslices: "200ms", functions: "200ms" };
    expect(firstDelays).toEqual({ controller: base, gateway: base, node: { deployments: "200ms" } });
  });

  it("a new revision's Deployment seen before its Function (the gateway's Function watch lagging) is not scaled to zero", async () => {
    // What the restarts above may or may not produce, made certain: the gateway may not watch
    // Functions, so after this restart its Function watch keeps failing while its Deployment
    // watch resumes. (An open watch outlives a change of rights; the restart ends it.)
    const role = JSON.parse((await plane.kubectl(["get", "clusterrole", "skiff-gateway", "-o", "json"])).stdout) as { rules: Array<{ resources: string[] }> };
    const at = role.rules.findIndex((r) => r.resources.includes("functions"));
    expect(at).toBeGreaterThanOrEqual(0);
    const patchRole = async (ops: unknown[]) => {
      const patched = await plane.kubectl(["patch", "clusterrole", "skiff-gateway", "--type=json", "-p", JSON.stringify(ops)]);
      expect(patched.stderr).toBe("");
    };
    const restoreRole = () => patchRole([{ op: "add", path: `/rules/${at}`, value: role.rules[at] }]);
    await patchRole([{ op: "remove", path: `/rules/${at}` }]);
    let restored = false;
    const seen = gatewayLog.lines.length;
    try {
      const load = startLoad(`${gateway!.url}/fn/hello/`, 60_000);
      await plane.restartApiserver();
      await waitFor(() => gatewayLog.lines.slice(seen).some((l) => /^watch of functions failed/.test(l.msg) && l.fields?.error === "Forbidden"), { what: "the gateway's Function watch to be refused", timeoutMs: 20_000 });
      // Requests are counted up to here only. With the gateway's Function held back it keeps
      // routing to the old revision; the controller retires that as soon as the new one is
      // ready, and a gateway blind to the Function has no revision to move to, so requests
      // would wait for the rights to come back (not what this test is about).
      const answers = await load.stop();
      expect(answers.filter((a) => a.status !== 200)).toEqual([]);
      const known = gateway!.serving("hello")!;
      const current = await getFunction();
      await custom.replaceNamespacedCustomObject({ group, version, plural, namespace: NS, name: "hello", body: { ...current, spec: { ...current.spec, env: { GREETING_SOURCE: "while-the-gateway-lags" } } } });
      const next = await waitFor(async () => {
        const latest = (await getFunction()).status?.latestRevision;
        return latest !== undefined && latest !== known ? latest : undefined;
      }, { what: "the controller to roll a new revision", timeoutMs: 30_000 });
      // The gateway sees the Deployment (desired() reads its replicas there until the gateway asks
      // for a count) but not the Function that names it: it must leave the one replica alone.
      await waitFor(() => gateway!.desired(next) === 1, { what: `the gateway to see ${next}'s Deployment and leave it at 1 replica`, timeoutMs: 30_000 });
      await node!.waitForReady(next, 1, { timeoutMs: 30_000 });
      await new Promise((r) => setTimeout(r, 1_000));
      expect((await apps.readNamespacedDeployment({ namespace: NS, name: next })).spec?.replicas).toBe(1);

      await restoreRole();
      restored = true;
      await waitFor(async () => (await getFunction()).status?.latestReadyRevision === next, { what: `Ready on ${next}`, timeoutMs: 30_000 });
      await waitFor(() => gateway!.serving("hello") === next, { what: `the gateway to serve ${next}`, timeoutMs: 30_000 });
      await waitFor(async () => {
        const names = await deploymentNames();
        return names.length === 1 && names[0] === next;
      }, { what: `only ${next}'s Deployment to remain`, timeoutMs: 30_000 });
    } finally {
      if (!restored) await restoreRole();
    }
    expect((await fetch(`${gateway!.url}/fn/hello/`)).status).toBe(200);
  });
});
