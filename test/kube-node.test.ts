// Proves the fake node (harness/kube-node.ts) against a real kube-apiserver: a hand-made
// function Deployment scaled 0 -> 2 -> 1 -> 0 gets exactly that many runtime processes of the
// built functions/hello, each answering HTTP, with one EndpointSlice per process that goes
// not ready -> ready -> terminating -> deleted, a replacement after a crash, and a status
// that kubectl reads. Also pins down why the node cannot use 127.0.0.1: the apiserver
// refuses loopback addresses in EndpointSlices.
import { readFileSync } from "node:fs";
import { dirname } from "node:path";
import {
  AppsV1Api, CoreV1Api, DiscoveryV1Api, PatchStrategy, setHeaderOptions, type V1Deployment, type V1EndpointSlice,
} from "@kubernetes/client-node";
import { afterAll, beforeAll, expect, it } from "vitest";
import { loadAndBuild } from "../cli/build-function.ts";
import { parseEndpointSlice } from "../controller/kube/endpoints.ts";
import { startInformer, type WatchedCache } from "../controller/kube/informer.ts";
import { apiStatus, KubeApi } from "../controller/kube/kube-api.ts";
import { FUNCTION_LABEL, REVISION_LABEL, SERVICE_NAME_LABEL } from "../controller/kube/names.ts";
import { describeWithKube, startKubeControlPlane, type KubeControlPlane } from "./harness/kube.ts";
import { FAKE_NODE_MANAGER, startFakeNode, type FakeNode, type FakeNodeOptions } from "./harness/kube-node.ts";
import { REPO_ROOT } from "./harness/processes.ts";
import { waitFor } from "./harness/wait-for.ts";

const NS = "fake-node";
const FN = "hello";
const REV = "hello-0123456789ab";

function helloDeployment(name: string, replicas: number): V1Deployment {
  const labels = { [FUNCTION_LABEL]: FN, [REVISION_LABEL]: REV, "app.kubernetes.io/managed-by": "skiff-controller" };
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: NS, labels },
    spec: {
      replicas,
      selector: { matchLabels: { [REVISION_LABEL]: REV } },
      template: {
        metadata: { labels },
        spec: {
          terminationGracePeriodSeconds: 16,
          containers: [{
            name: "function",
            image: "registry.invalid/hello:test",
            ports: [{ name: "http", containerPort: 8080, protocol: "TCP" }],
            env: [
              { name: "NODE_ENV", value: "production" },
              { name: "HOST", value: "0.0.0.0" },
              { name: "PORT", value: "8080" },
              { name: "SKIFF_FUNCTION", value: FN },
              { name: "SKIFF_REVISION", value: REV },
              { name: "SKIFF_DRAIN_GRACE_MS", value: "11000" },
              { name: "SKIFF_CPU_MILLIS", value: "250" },
              { name: "SKIFF_REPLICA", valueFrom: { fieldRef: { apiVersion: "v1", fieldPath: "metadata.name" } } },
            ],
          }],
        },
      },
    },
  };
}

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** A process's environment as the kernel has it (Linux). */
const environOf = (pid: number): Record<string, string> =>
  Object.fromEntries(
    readFileSync(`/proc/${pid}/environ`, "utf8")
      .split("\0")
      .filter(Boolean)
      .map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]),
  );

type Conditions = { ready?: boolean; serving?: boolean; terminating?: boolean };

describeWithKube("fake node for the kube test control plane", () => {
  let plane: KubeControlPlane;
  let node: FakeNode;
  let nodeOptions: FakeNodeOptions;
  let apps: AppsV1Api;
  let discovery: DiscoveryV1Api;
  let api: KubeApi;
  let slices: WatchedCache<V1EndpointSlice>;
  // Every state each slice was seen in, from a watch: transitions too brief to poll are kept.
  const history = new Map<string, Array<Conditions | "deleted">>();

  beforeAll(async () => {
    const [started, build] = await Promise.all([startKubeControlPlane(), loadAndBuild(`${REPO_ROOT}/functions/hello`)]);
    plane = started;
    const kc = plane.kubeConfig();
    apps = kc.makeApiClient(AppsV1Api);
    discovery = kc.makeApiClient(DiscoveryV1Api);
    api = new KubeApi(kc, NS);
    await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: NS } } });
    const bundleDir = dirname(build.bundlePath);
    nodeOptions = {
      kc,
      namespace: NS,
      bundleDir: (revision) => {
        if (revision !== REV) throw new Error(`unknown revision ${revision}`);
        return bundleDir;
      },
    };
    node = await startFakeNode(nodeOptions);
    slices = startInformer(kc, api.endpointSlicesTarget(), {
      onChange: (slice, change) => {
        const name = slice.metadata!.name!;
        const seen = history.get(name) ?? [];
        history.set(name, seen);
        seen.push(change === "delete" ? "deleted" : { ...slice.endpoints?.[0]?.conditions });
      },
    });
    await slices.synced;
  }, 120_000);

  afterAll(async () => {
    await slices?.stop();
    await node?.stop();
    await plane?.stop();
  });

  const listSlices = async (): Promise<V1EndpointSlice[]> =>
    (await discovery.listNamespacedEndpointSlice({ namespace: NS })).items.sort((a, b) => a.metadata!.name!.localeCompare(b.metadata!.name!));

  it("cannot use 127.0.0.1: the apiserver rejects loopback addresses in EndpointSlices", async () => {
    const error = await discovery
      .createNamespacedEndpointSlice({
        namespace: NS,
        body: {
          metadata: { name: "loopback-probe" },
          addressType: "IPv4",
          endpoints: [{ addresses: ["127.0.0.1"] }],
          ports: [{ name: "http", port: 8080, protocol: "TCP" }],
        },
      })
      .catch((e: unknown) => e);
    expect(apiStatus(error)).toBe(422);
    expect(String((error as { body?: unknown }).body)).toMatch(/loopback/);
    expect(node.address.address).not.toMatch(/^127\./);
  });

  it("runs spec.replicas processes with slices following them as the Deployment scales 0 -> 2 -> 1 -> 0", async () => {
    const name = REV;
    await api.createDeployment(helloDeployment(name, 0));
    await expect(node.waitForReady(name, 0)).resolves.toEqual([]);
    expect(await listSlices()).toEqual([]);

    // 0 -> 2
    await api.scaleDeployment(NS, name, 2);
    const two = await node.waitForReady(name, 2, { timeoutMs: 30_000 });
    expect(two.map((p) => p.name)).toEqual([`${name}-0`, `${name}-1`]);
    for (const pod of two) {
      expect(pod.url).toBe(`http://${node.address.address}:${pod.port}`);
      const res = await fetch(`${pod.url}/?name=${pod.name}`);
      expect(await res.text()).toBe(`hello, ${pod.name}\n`);
      // The container's literal env, the pod's name, and the node's PORT/HOST; valueFrom skipped.
      const env = environOf(pod.pid!);
      expect(env).toMatchObject({
        SKIFF_FUNCTION: FN,
        SKIFF_REVISION: REV,
        SKIFF_DRAIN_GRACE_MS: "11000",
        SKIFF_CPU_MILLIS: "250",
        NODE_ENV: "production",
        SKIFF_REPLICA: pod.name,
        PORT: "0",
        HOST: node.address.address,
      });
    }
    const slicesAtTwo = await listSlices();
    expect(slicesAtTwo.map((s) => s.metadata!.name)).toEqual(two.map((p) => p.name));
    for (const [i, slice] of slicesAtTwo.entries()) {
      const pod = two[i]!;
      expect(slice.metadata!.labels).toMatchObject({
        [FUNCTION_LABEL]: FN,
        [REVISION_LABEL]: REV,
        [SERVICE_NAME_LABEL]: name,
        "endpointslice.kubernetes.io/managed-by": FAKE_NODE_MANAGER,
      });
      expect(slice.addressType).toBe(node.address.addressType);
      expect(slice.endpoints).toEqual([
        {
          addresses: [node.address.address],
          conditions: { ready: true, serving: true, terminating: false },
          targetRef: { kind: "Pod", name: pod.name, namespace: NS },
        },
      ]);
      expect(slice.ports).toEqual([{ name: "http", port: pod.port, protocol: "TCP" }]);
      // As the controller and the gateway read it.
      expect(parseEndpointSlice(slice)).toEqual([{ id: pod.name, fn: FN, revision: REV, url: pod.url, phase: "ready", serving: true }]);
    }
    // Each slice was written not ready first, then ready.
    for (const pod of two) {
      expect(history.get(pod.name)?.slice(0, 2)).toEqual([
        { ready: false, serving: false, terminating: false },
        { ready: true, serving: true, terminating: false },
      ]);
    }
    await waitFor(async () => (await apps.readNamespacedDeployment({ name, namespace: NS })).status?.readyReplicas === 2, {
      what: "the Deployment's status to count 2 ready replicas",
    });
    const kubectl = await plane.kubectl(["get", "deployment", name, "-n", NS, "--no-headers"]);
    expect(kubectl.stdout).toMatch(new RegExp(`^${name}\\s+2/2\\s+2\\s+2\\s`));

    // 2 -> 1: the newest pod terminates (slice marked, SIGTERM, drained, slice deleted).
    await api.scaleDeployment(NS, name, 1);
    const one = await node.waitForReady(name, 1);
    expect(one.map((p) => p.name)).toEqual([`${name}-0`]);
    const [kept, removed] = two;
    expect(await (await fetch(`${kept!.url}/`)).text()).toBe("hello, world\n");
    await waitFor(() => !isAlive(removed!.pid!), { what: `${removed!.name} to exit` });
    expect((await listSlices()).map((s) => s.metadata!.name)).toEqual([kept!.name]);
    await waitFor(() => history.get(removed!.name)?.at(-1) === "deleted", { what: `the watch to see ${removed!.name}'s slice deleted` });
    expect(history.get(removed!.name)?.slice(-2)).toEqual([{ ready: false, serving: true, terminating: true }, "deleted"]);
    expect(node.events.filter((e) => e.pod === removed!.name).map((e) => e.type)).toEqual([
      "started", "listening", "ready", "terminating", "exited", "slice-deleted",
    ]);

    // 1 -> 0
    await api.scaleDeployment(NS, name, 0);
    await node.waitForReady(name, 0);
    await waitFor(() => !isAlive(kept!.pid!), { what: `${kept!.name} to exit` });
    expect(await listSlices()).toEqual([]);
    // Zero counts are omitted from the stored status (omitempty), so absent reads as 0.
    await waitFor(async () => {
      const deployment = await apps.readNamespacedDeployment({ name, namespace: NS });
      const status = deployment.status;
      return status?.observedGeneration === deployment.metadata?.generation && (status?.replicas ?? 0) === 0 && (status?.readyReplicas ?? 0) === 0;
    }, { what: "the Deployment's status to count no replicas" });
    const kubectlAtZero = await plane.kubectl(["get", "deployment", name, "-n", NS, "--no-headers"]);
    expect(kubectlAtZero.stdout).toMatch(new RegExp(`^${name}\\s+0/0\\s+0\\s+0\\s`));
  });

  it("replaces a pod whose process dies, removing its slice", async () => {
    const name = "hello-crash";
    await api.createDeployment(helloDeployment(name, 1));
    const [first] = await node.waitForReady(name, 1);
    process.kill(first!.pid!, "SIGKILL");
    const [second] = await waitFor(
      async () => {
        const pods = await node.waitForReady(name, 1);
        return pods[0]!.name !== first!.name ? pods : undefined;
      },
      { what: "a replacement pod", timeoutMs: 30_000 },
    );
    expect(second!.name).toBe(`${name}-1`);
    expect(await (await fetch(`${second!.url}/?name=again`)).text()).toBe("hello, again\n");
    expect(node.events.some((e) => e.type === "crashed" && e.pod === first!.name)).toBe(true);
    expect((await listSlices()).map((s) => s.metadata!.name)).toEqual([second!.name]);

    // Deleting the Deployment stops its pods and removes their slices.
    await api.deleteDeployment(NS, name);
    await node.waitForReady(name, 0);
    await waitFor(() => !isAlive(second!.pid!), { what: `${second!.name} to exit` });
    expect(await listSlices()).toEqual([]);
  });

  it("stop() kills every process; a new node takes over existing Deployments without restarting on watch updates", async () => {
    const name = "hello-stop";
    await api.createDeployment(helloDeployment(name, 2));
    const pods = await node.waitForReady(name, 2);
    await node.stop();
    for (const pod of pods) expect(isAlive(pod.pid!)).toBe(false);
    await node.stop();
    // A stopped node no longer reacts: the processes do not come back.
    await api.scaleDeployment(NS, name, 3);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(node.pods(name).map((p) => p.phase)).toEqual(["exited", "exited"]);
    expect((await listSlices()).map((s) => s.metadata!.name)).toEqual([`${name}-0`, `${name}-1`]);

    // The next node starts what its first list holds, after deleting the slices left behind.
    node = await startFakeNode(nodeOptions);
    const three = await node.waitForReady(name, 3);
    expect((await listSlices()).map((s) => s.metadata!.name)).toEqual(three.map((p) => p.name));
    for (const pod of three) expect(await (await fetch(`${pod.url}/`)).text()).toBe("hello, world\n");
    // A watch update (raw JSON, unlike the typed list) of an unchanged template rolls nothing.
    await apps.patchNamespacedDeployment(
      { name, namespace: NS, body: { metadata: { annotations: { touched: "yes" } } } },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(node.pods(name)).toEqual(three);
    expect(node.events.filter((e) => e.deployment === name && e.type !== "started" && e.type !== "listening" && e.type !== "ready")).toEqual([]);
  });
});
