// `skiff deploy --kube` as a user runs it: the real CLI builds the function's image on the
// host base, pushes it to Debian's docker-registry on loopback, server-side applies the
// Function to a real kube-apiserver and waits for Ready (the controller runs in the test, the
// fake node runs the replica), then prints the URL.
import { CustomObjectsApi } from "@kubernetes/client-node";
import { afterAll, beforeAll, expect, it } from "vitest";
import { loadAndBuild } from "../cli/build-function.ts";
import { startKubeController, type KubeController, FUNCTION_API, type FunctionObject } from "../controller/kube/index.ts";
import { describeWithKube, startKubeControlPlane, type KubeControlPlane } from "./harness/kube.ts";
import { applyManifests } from "./harness/kube-platform.ts";
import { startFakeNode, type FakeNode } from "./harness/kube-node.ts";
import { REPO_ROOT, runSkiff } from "./harness/processes.ts";
import { registryTools, startRegistry, type TestRegistry } from "./harness/registry.ts";
import { describeWithTools } from "./harness/tools.ts";

const { group, version, plural } = FUNCTION_API;
const NS = "deploy-kube";
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };

describeWithKube("skiff deploy --kube", () => {
  describeWithTools("skiff deploy --kube to a real apiserver and registry", registryTools("anonymous"), () => {
    let plane: KubeControlPlane;
    let registry: TestRegistry;
    let controller: KubeController | undefined;
    let node: FakeNode | undefined;

    beforeAll(async () => {
      const [started, reg, build] = await Promise.all([startKubeControlPlane(), startRegistry(), loadAndBuild(`${REPO_ROOT}/functions/hello`)]);
      plane = started;
      registry = reg;
      await applyManifests(plane);
      const ns = await plane.kubectl(["create", "namespace", NS]);
      if (ns.code !== 0) throw new Error(ns.stderr);
      node = await startFakeNode({ kc: plane.kubeConfig(), namespace: NS, bundleDir: () => build.outDir });
      controller = await startKubeController({ kc: plane.kubeConfig(), gatewayUrl: "http://gateway.test", logger: quiet });
    }, 180_000);

    afterAll(async () => {
      await controller?.stop();
      await node?.stop();
      await registry?.stop();
      await plane?.stop();
    });

    it("builds, pushes, applies the Function pinned by digest, waits for Ready and prints the URL", async () => {
      const result = await runSkiff(["deploy", "functions/hello", "--kube", "--image", `${registry.host}/team/hello`, "--kubeconfig", plane.kubeconfigPath, "--namespace", NS, "--timeout", "90s", "--json"]);
      expect(result.code, result.stderr).toBe(0);
      const out = JSON.parse(result.stdout) as { image: string; url: string; revision: string; bytesUploaded: number };
      expect(out.image).toMatch(new RegExp(`^${registry.host}/team/hello:latest@sha256:[0-9a-f]{64}$`));
      expect(out.url).toBe("http://gateway.test/fn/hello/");
      expect(out.revision).toMatch(/^hello-[0-9a-f]{12}$/);
      expect(result.stderr).toMatch(/pushed .*@sha256:/);
      expect(result.stderr).toMatch(/applied Function deploy-kube\/hello/);
      const fn = (await plane.kubeConfig().makeApiClient(CustomObjectsApi).getNamespacedCustomObject({ group, version, plural, namespace: NS, name: "hello" })) as FunctionObject;
      expect(fn.spec.image).toBe(out.image);
      expect(fn.spec).toMatchObject({ http: true, scale: { min: 0, max: 5, concurrency: 50 }, timeout: "10s" });
      expect(fn.status?.conditions?.find((c) => c.type === "Ready")?.status).toBe("True");
      // The registry has the manifest the Function names.
      const digest = out.image.split("@")[1]!;
      const head = await fetch(`http://${registry.host}/v2/team/hello/manifests/${digest}`, { method: "HEAD", headers: { accept: "application/vnd.oci.image.manifest.v1+json" } });
      expect(head.status).toBe(200);
    });

    it("deploying the same function again changes nothing and uploads nothing", async () => {
      const custom = plane.kubeConfig().makeApiClient(CustomObjectsApi);
      const read = async () => (await custom.getNamespacedCustomObject({ group, version, plural, namespace: NS, name: "hello" })) as FunctionObject;
      const before = (await read()).metadata?.generation;
      const result = await runSkiff(["deploy", "functions/hello", "--kube", "--image", `${registry.host}/team/hello`, "--kubeconfig", plane.kubeconfigPath, "--namespace", NS, "--json"]);
      expect(result.code, result.stderr).toBe(0);
      expect((JSON.parse(result.stdout) as { bytesUploaded: number }).bytesUploaded).toBe(0);
      expect((await read()).metadata?.generation).toBe(before);
    });

    it("fails with one clear line without --image, or with a kubeconfig that does not exist", async () => {
      const noImage = await runSkiff(["deploy", "functions/hello", "--kube", "--kubeconfig", plane.kubeconfigPath], { env: { ...process.env, SKIFF_REGISTRY: "" } });
      expect(noImage.code).toBe(2);
      expect(noImage.stderr).toMatch(/--kube needs --image/);
      const noConfig = await runSkiff(["deploy", "functions/hello", "--kube", "--image", `${registry.host}/x`, "--kubeconfig", "/nonexistent/kubeconfig"]);
      expect(noConfig.code).toBe(1);
      expect(noConfig.stderr).toMatch(/--kubeconfig \/nonexistent\/kubeconfig: no such file/);
    });
  });
});
