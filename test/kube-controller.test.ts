// The Kubernetes mode against a real kube-apiserver (test/harness/kube.ts): the manifests
// apply, the CRD refuses what function.yaml refuses, and the controller, running as the
// least-privilege identity manifests/rbac.yaml grants, turns a Function into its revision's
// Deployment and Service, writes status, survives a restart without writing anything, retries
// a conflicting status write and cleans up through its finalizer.
import { ApiException, AppsV1Api, CoreV1Api, CustomObjectsApi, type V1Deployment } from "@kubernetes/client-node";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startKubeController, type KubeController } from "../controller/kube/controller.ts";
import type { FunctionObject } from "../controller/kube/function-object.ts";
import { FUNCTION_API } from "../controller/kube/names.ts";
import { CLEANUP_FINALIZER } from "../controller/kube/reconciler.ts";
import { describeWithKube, startKubeControlPlane, type KubeControlPlane } from "./harness/kube.ts";
import { applyManifests, bindPlatformRoles, PLATFORM_USERS } from "./harness/kube-platform.ts";
import { waitFor } from "./harness/wait-for.ts";

const { group, version, plural } = FUNCTION_API;
const NS = "functions-test";
const IMAGE = "registry.example/hello@sha256:" + "a".repeat(64);
const quiet = { info: (m: string, f?: unknown) => process.env.KUBE_TEST_LOG && console.log(m, JSON.stringify(f ?? {})), warn: (m: string, f?: unknown) => process.env.KUBE_TEST_LOG && console.log("WARN", m, JSON.stringify(f ?? {})), error: () => undefined };

function functionObject(name: string, spec: Record<string, unknown>): FunctionObject {
  return { apiVersion: `${group}/${version}`, kind: "Function", metadata: { name, namespace: NS }, spec: { image: IMAGE, ...spec } } as FunctionObject;
}

describeWithKube("kubernetes controller against a real apiserver", () => {
  let plane: KubeControlPlane;
  let controller: KubeController | undefined;
  let custom: CustomObjectsApi;
  let apps: AppsV1Api;
  let core: CoreV1Api;

  const startController = () =>
    startKubeController({ kc: plane.user("skiff-controller").kubeConfig(), gatewayUrl: "http://gateway.test", logger: quiet });
  const getFunction = async (name: string) => (await custom.getNamespacedCustomObject({ group, version, plural, namespace: NS, name })) as FunctionObject;
  const deploymentsOf = async (fn: string) => (await apps.listNamespacedDeployment({ namespace: NS, labelSelector: `skiff.dev/function=${fn}` })).items;

  beforeAll(async () => {
    plane = await startKubeControlPlane({ users: PLATFORM_USERS });
    const kc = plane.kubeConfig();
    custom = kc.makeApiClient(CustomObjectsApi);
    apps = kc.makeApiClient(AppsV1Api);
    core = kc.makeApiClient(CoreV1Api);
    await applyManifests(plane);
    await bindPlatformRoles(plane);
    await core.createNamespace({ body: { metadata: { name: NS } } });
    await waitFor(async () => (await plane.kubectl(["get", "functions", "-n", NS])).code === 0, { what: "the Function API to be served", timeoutMs: 20_000 });
  }, 120_000);

  afterAll(async () => {
    await controller?.stop();
    await plane?.stop();
  });

  it("applies manifests/ with kubectl, and the Function CRD is Established", async () => {
    const crd = await plane.kubectl(["get", "crd", "functions.skiff.dev", "-o", "jsonpath={.status.conditions[?(@.type==\"Established\")].status}"]);
    expect(crd.stdout).toBe("True");
    const objects = await plane.kubectl(["get", "deploy,statefulset,svc,sa", "-n", "skiff-system", "-o", "name"]);
    expect(objects.stdout.split("\n").sort()).toEqual(expect.arrayContaining([
      "deployment.apps/skiff-controller", "deployment.apps/skiff-gateway", "statefulset.apps/nats", "serviceaccount/skiff-controller", "serviceaccount/skiff-gateway",
    ]));
  });

  it("the apiserver refuses invalid Functions with a message naming the field", async () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ timeout: "ten seconds" }, /spec\.timeout/],
      [{ scale: { min: 3, max: 1 } }, /spec\.scale/],
      [{ image: "" }, /spec\.image/],
      [{ maxBodySize: "5tb" }, /spec\.maxBodySize/],
    ];
    for (const [spec, field] of cases) {
      const error = await custom
        .createNamespacedCustomObject({ group, version, plural, namespace: NS, body: functionObject("broken", spec) })
        .then(() => undefined, (e: unknown) => e);
      expect(error, JSON.stringify(spec)).toBeInstanceOf(ApiException);
      expect((error as ApiException<unknown>).code).toBe(422);
      expect(String((error as ApiException<unknown>).body)).toMatch(field);
    }
    const typo = await plane.kubectl(["apply", "-f", "-"], { input: JSON.stringify(functionObject("typo", { timout: "5s" })) });
    expect(typo.code).not.toBe(0);
    expect(typo.stderr).toMatch(/unknown field "spec\.timout"/);
  });

  it("turns a Function into its revision's Deployment and Service, with a finalizer and a status", async () => {
    controller = await startController();
    await custom.createNamespacedCustomObject({ group, version, plural, namespace: NS, body: functionObject("hello", { scale: { min: 0, max: 5, concurrency: 50 }, timeout: "10s", env: { GREETING: "hi" } }) });
    const [deployment] = await waitFor(async () => {
      const found = await deploymentsOf("hello");
      return found.length === 1 ? found : undefined;
    }, { what: "the revision's Deployment", timeoutMs: 15_000 });
    const revision = deployment!.metadata!.name!;
    expect(revision).toMatch(/^hello-[0-9a-f]{12}$/);
    const pod = deployment!.spec!.template.spec!;
    const container = pod.containers[0]!;
    expect(deployment!.spec!.replicas).toBe(1);
    expect(container.image).toBe(IMAGE);
    expect(container.env).toEqual(expect.arrayContaining([{ name: "GREETING", value: "hi" }, { name: "SKIFF_REVISION", value: revision }]));
    expect(container.readinessProbe?.httpGet?.path).toBe("/_skiff/ready");
    expect(container.securityContext).toMatchObject({ runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(11);
    expect(deployment!.metadata!.ownerReferences?.[0]).toMatchObject({ kind: "Function", name: "hello", controller: true });
    // The Service is created right after the Deployment, in the same pass.
    const service = await waitFor(() => core.readNamespacedService({ namespace: NS, name: revision }), { what: "the revision's Service", timeoutMs: 15_000 });
    expect(service.spec?.clusterIP).toBe("None");
    expect(service.spec?.selector).toEqual({ "skiff.dev/revision": revision });

    const fn = await waitFor(async () => {
      const current = await getFunction("hello");
      return current.status?.latestRevision === revision ? current : undefined;
    }, { what: "status.latestRevision", timeoutMs: 15_000 });
    expect(fn.metadata?.finalizers).toContain(CLEANUP_FINALIZER);
    expect(fn.status?.observedGeneration).toBe(fn.metadata?.generation);
    expect(fn.status?.conditions?.find((c) => c.type === "Ready")).toMatchObject({ status: "Unknown", reason: "RevisionStarting" });
    expect(fn.status?.url).toBe("http://gateway.test/fn/hello/");
  });

  it("kubectl shows the printer columns and explains the spec", async () => {
    const table = await plane.kubectl(["get", "functions", "-n", NS]);
    expect(table.stdout.split("\n")[0]).toMatch(/NAME\s+READY\s+REPLICAS\s+URL\s+AGE/);
    expect(table.stdout).toMatch(/hello\s+Unknown\s+1\s+http:\/\/gateway\.test\/fn\/hello\//);
    const short = await plane.kubectl(["get", "skf", "-n", NS, "-o", "name"]);
    expect(short.stdout.trim()).toBe("function.skiff.dev/hello");
    const explain = await plane.kubectl(["explain", "function.spec"]);
    expect(explain.code).toBe(0);
    expect(explain.stdout).toMatch(/scale\s+<Object>/);
    expect(explain.stdout).toMatch(/timeout/);
    expect(explain.stdout).toMatch(/image\s+<string> -required-/);
  });

  it("a restarted controller writes nothing and makes no duplicates", async () => {
    await controller!.idle();
    const before = await snapshot("hello");
    await controller!.stop();
    controller = await startController();
    await controller.idle();
    await new Promise((r) => setTimeout(r, 500));
    await controller.idle();
    expect(await snapshot("hello")).toEqual(before);
    expect(controller.counters).toMatchObject({ created: 0, updated: 0, deleted: 0, statusWrites: 0, finalizerWrites: 0 });
    expect(controller.counters.passes).toBeGreaterThan(0);
  });

  it("a new spec rolls a new revision; an invalid one keeps the last good revision and says why", async () => {
    const fn = await getFunction("hello");
    await custom.replaceNamespacedCustomObject({ group, version, plural, namespace: NS, name: "hello", body: { ...fn, spec: { ...fn.spec, timeout: "20s" } } });
    await waitFor(async () => {
      const names = (await deploymentsOf("hello")).map((d) => d.metadata!.name);
      const status = (await getFunction("hello")).status;
      // No replica of either ever turned ready, so the old one goes at once.
      return names.length === 1 && names[0] === status?.latestRevision && names[0] !== fn.status?.latestRevision;
    }, { what: "the new revision to replace the old", timeoutMs: 15_000 });
    // An env value the CRD's schema allows but function.yaml's rules refuse (a reserved name is caught by both, so use a spec-only rule).
    const current = await getFunction("hello");
    const invalid = { ...current, spec: { ...current.spec, scale: { min: 0, max: 5, concurrency: 50, target: 60 } } };
    const refused = await custom.replaceNamespacedCustomObject({ group, version, plural, namespace: NS, name: "hello", body: invalid }).then(() => undefined, (e: unknown) => e);
    // The CRD's CEL rule (target <= concurrency) already refuses it at the door.
    expect((refused as ApiException<unknown>).code).toBe(422);
    expect(String((refused as ApiException<unknown>).body)).toMatch(/target/);
  });

  it("retries a status write that meets a 409 conflict", async () => {
    await controller!.stop();
    let bumped = false;
    controller = await startKubeController({
      kc: plane.user("skiff-controller").kubeConfig(),
      gatewayUrl: "http://gateway-2.test",
      logger: quiet,
      // Between the controller's read and its write, someone else changes the Function.
      beforeStatusWrite: async (fn) => {
        if (bumped) return;
        bumped = true;
        const fresh = await getFunction(fn.metadata!.name!);
        await custom.replaceNamespacedCustomObject({ group, version, plural, namespace: NS, name: fn.metadata!.name!, body: { ...fresh, metadata: { ...fresh.metadata, labels: { touched: "yes" } } } });
      },
    });
    await waitFor(async () => (await getFunction("hello")).status?.url === "http://gateway-2.test/fn/hello/", { what: "the status written after the conflict", timeoutMs: 15_000 });
    expect(bumped).toBe(true);
    expect(controller.counters.statusConflicts).toBeGreaterThanOrEqual(1);
    expect((await getFunction("hello")).metadata?.labels?.touched).toBe("yes");
  });

  it("deleting a Function deletes its Deployments and Services through the finalizer", async () => {
    const revision = (await getFunction("hello")).status!.latestRevision!;
    await custom.deleteNamespacedCustomObject({ group, version, plural, namespace: NS, name: "hello" });
    await waitFor(async () => {
      const gone = await getFunction("hello").then(() => false, (e: unknown) => e instanceof ApiException && e.code === 404);
      return gone && (await deploymentsOf("hello")).length === 0;
    }, { what: "the Function and its Deployment to be gone", timeoutMs: 15_000 });
    const service = await core.readNamespacedService({ namespace: NS, name: revision }).then(() => "there", (e: unknown) => (e instanceof ApiException ? e.code : e));
    expect(service).toBe(404);
  });

  /** resourceVersions of the Function, its Deployments and Services: any write changes one. */
  async function snapshot(fn: string): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    const f = await getFunction(fn);
    out[`function/${fn}`] = f.metadata!.resourceVersion!;
    for (const d of await deploymentsOf(fn)) out[`deployment/${d.metadata!.name}`] = (d as V1Deployment).metadata!.resourceVersion!;
    for (const s of (await core.listNamespacedService({ namespace: NS, labelSelector: `skiff.dev/function=${fn}` })).items) out[`service/${s.metadata!.name}`] = s.metadata!.resourceVersion!;
    return out;
  }
});
