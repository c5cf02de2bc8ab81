// Proves the Kubernetes test harness: a real etcd + kube-apiserver (built by
// .ci/build-kube-tools) answers @kubernetes/client-node and kubectl over verified TLS, runs the
// apiextensions controller (CRDs become Established) and enforces RBAC for a token user.
import {
  ApiException,
  ApiextensionsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  RbacAuthorizationV1Api,
  VersionApi,
  type V1CustomResourceDefinition,
} from "@kubernetes/client-node";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeWithKube, startKubeControlPlane, type KubeControlPlane } from "./harness/kube.ts";
import { kubeToolVersions } from "./harness/kube-tools.ts";
import { waitFor } from "./harness/wait-for.ts";

const statusOf = (error: unknown): number | undefined => (error instanceof ApiException ? error.code : undefined);

const widgetCrd: V1CustomResourceDefinition = {
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  metadata: { name: "widgets.harness.skiff.dev" },
  spec: {
    group: "harness.skiff.dev",
    scope: "Namespaced",
    names: { plural: "widgets", singular: "widget", kind: "Widget", listKind: "WidgetList" },
    versions: [
      {
        name: "v1",
        served: true,
        storage: true,
        schema: {
          openAPIV3Schema: {
            type: "object",
            properties: { spec: { type: "object", properties: { size: { type: "integer" } } } },
          },
        },
      },
    ],
  },
};

describeWithKube("kube control plane harness", () => {
  let plane: KubeControlPlane;
  beforeAll(async () => {
    plane = await startKubeControlPlane();
  }, 120_000);
  afterAll(async () => {
    await plane?.stop();
  });

  it("serves the pinned Kubernetes version over TLS checked against its own CA", async () => {
    const version = await plane.kubeConfig().makeApiClient(VersionApi).getCode();
    expect(version.gitVersion).toBe(`v${kubeToolVersions().k8s}`);
  });

  it("creates and lists a namespace through @kubernetes/client-node", async () => {
    const core = plane.kubeConfig().makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: "harness-client" } } });
    const names = (await core.listNamespace()).items.map((ns) => ns.metadata?.name);
    expect(names).toEqual(expect.arrayContaining(["default", "kube-system", "harness-client"]));
  });

  it("lets the built kubectl use the generated kubeconfig", async () => {
    await plane.kubeConfig().makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: "harness-kubectl" } } });
    const result = await plane.kubectl(["get", "namespaces", "-o", "name"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.split("\n")).toEqual(expect.arrayContaining(["namespace/default", "namespace/harness-kubectl"]));
  });

  it("establishes a CustomResourceDefinition and serves its objects", async () => {
    const kc = plane.kubeConfig();
    const ext = kc.makeApiClient(ApiextensionsV1Api);
    await ext.createCustomResourceDefinition({ body: widgetCrd });
    await waitFor(
      async () => {
        const crd = await ext.readCustomResourceDefinition({ name: widgetCrd.metadata!.name! });
        return crd.status?.conditions?.some((c) => c.type === "Established" && c.status === "True");
      },
      { what: "CRD widgets.harness.skiff.dev to be Established", timeoutMs: 15_000, intervalMs: 100 },
    );
    const objects = kc.makeApiClient(CustomObjectsApi);
    const widgets = { group: "harness.skiff.dev", version: "v1", namespace: "default", plural: "widgets" };
    // Established means the names are accepted; the REST handler may lag a moment behind it.
    await waitFor(
      () =>
        objects.createNamespacedCustomObject({
          ...widgets,
          body: { apiVersion: "harness.skiff.dev/v1", kind: "Widget", metadata: { name: "w1" }, spec: { size: 3 } },
        }),
      { what: "the widgets resource to accept a create", timeoutMs: 10_000, intervalMs: 100 },
    );
    const widget = (await objects.getNamespacedCustomObject({ ...widgets, name: "w1" })) as { spec?: { size?: number } };
    expect(widget.spec?.size).toBe(3);
  });

  it("gives a token user outside system:masters only what RBAC grants it", async () => {
    const admin = plane.kubeConfig();
    const tester = plane.user("tester");
    const testerCore = tester.kubeConfig().makeApiClient(CoreV1Api);
    await admin.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: "harness-rbac" } } });

    const before = await testerCore.listNamespacedConfigMap({ namespace: "harness-rbac" }).catch((e: unknown) => e);
    expect(statusOf(before)).toBe(403);

    const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
    await rbac.createNamespacedRole({
      namespace: "harness-rbac",
      body: {
        metadata: { name: "configmap-reader" },
        rules: [{ apiGroups: [""], resources: ["configmaps"], verbs: ["get", "list"] }],
      },
    });
    await rbac.createNamespacedRoleBinding({
      namespace: "harness-rbac",
      body: {
        metadata: { name: "tester-reads-configmaps" },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "configmap-reader" },
        subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: tester.name }],
      },
    });
    // The RBAC authorizer reads roles from an informer, so a grant lands a moment after the write.
    await waitFor(() => testerCore.listNamespacedConfigMap({ namespace: "harness-rbac" }), {
      what: "tester to be allowed to list configmaps in harness-rbac",
      timeoutMs: 10_000,
      intervalMs: 100,
    });
    const elsewhere = await testerCore.listNamespacedConfigMap({ namespace: "default" }).catch((e: unknown) => e);
    expect(statusOf(elsewhere)).toBe(403);

    const canI = await tester.kubectl(["auth", "can-i", "create", "configmaps", "-n", "harness-rbac"]);
    expect(canI.stdout.trim()).toBe("no");
  });
});
