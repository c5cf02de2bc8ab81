// Guards on manifests/ that need no cluster: every file kustomization.yaml lists exists and
// parses, and every pod the platform runs keeps the hardening the design promises.
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parseAllDocuments, parse } from "yaml";

const DIR = fileURLToPath(new URL("../../manifests/", import.meta.url));

type Doc = { kind: string; metadata: { name: string; namespace?: string }; spec?: Record<string, unknown> } & Record<string, unknown>;

async function load(file: string): Promise<Doc[]> {
  const docs = parseAllDocuments(await readFile(DIR + file, "utf8"));
  for (const doc of docs) expect(doc.errors, file).toEqual([]);
  return docs.map((doc) => doc.toJS() as Doc).filter(Boolean);
}

async function everyObject(): Promise<Doc[]> {
  const kustomization = parse(await readFile(DIR + "kustomization.yaml", "utf8")) as { resources: string[] };
  return (await Promise.all(kustomization.resources.map(load))).flat();
}

type Container = { name: string; resources?: { requests?: object; limits?: { memory?: string } }; readinessProbe?: object; livenessProbe?: object; securityContext?: Record<string, unknown> };
type PodSpec = { containers: Container[]; securityContext?: Record<string, unknown> };

describe("manifests", () => {
  it("list only files that exist and parse, in skiff-system", async () => {
    const objects = await everyObject();
    expect(objects.map((o) => o.kind).sort()).toEqual([
      "ClusterRole", "ClusterRole", "ClusterRoleBinding", "ClusterRoleBinding", "ConfigMap", "CustomResourceDefinition",
      "Deployment", "Deployment", "Namespace", "Service", "Service", "Service", "Service", "ServiceAccount", "ServiceAccount", "StatefulSet",
    ]);
    for (const o of objects.filter((o) => !["Namespace", "CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding"].includes(o.kind))) {
      expect(o.metadata.namespace, `${o.kind}/${o.metadata.name}`).toBe("skiff-system");
    }
  });

  it("run every platform pod non-root, read-only, without capabilities, with resources and probes", async () => {
    const workloads = (await everyObject()).filter((o) => o.kind === "Deployment" || o.kind === "StatefulSet");
    expect(workloads.map((w) => w.metadata.name).sort()).toEqual(["nats", "skiff-controller", "skiff-gateway"]);
    for (const w of workloads) {
      const pod = (w.spec!.template as { spec: PodSpec }).spec;
      expect(pod.securityContext, w.metadata.name).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
      for (const c of pod.containers) {
        const where = `${w.metadata.name}/${c.name}`;
        expect(c.securityContext, where).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } });
        expect(c.resources?.requests, where).toBeDefined();
        expect(c.resources?.limits?.memory, where).toBeDefined();
        expect(c.readinessProbe, where).toBeDefined();
        expect(c.livenessProbe, where).toBeDefined();
      }
    }
  });

  it("keep NATS' JetStream store on a claim", async () => {
    const nats = (await load("nats.yaml")).find((o) => o.kind === "StatefulSet")!;
    const claims = nats.spec!.volumeClaimTemplates as Array<{ metadata: { name: string } }>;
    expect(claims.map((c) => c.metadata.name)).toEqual(["data"]);
    const config = (await load("nats.yaml")).find((o) => o.kind === "ConfigMap")!;
    expect((config.data as Record<string, string>)["nats.conf"]).toMatch(/jetstream \{\s*store_dir: \/data/);
  });

  it("grant the gateway read access, and writes only to deployments/scale (its autoscalers)", async () => {
    const role = (await load("rbac.yaml")).find((o) => o.kind === "ClusterRole" && o.metadata.name === "skiff-gateway")!;
    const rules = role.rules as Array<{ resources: string[]; verbs: string[] }>;
    const writes = rules.filter((r) => r.verbs.some((v) => !["get", "list", "watch"].includes(v)));
    expect(writes.flatMap((r) => r.resources)).toEqual(["deployments/scale"]);
  });

  it("parse the examples", async () => {
    expect((await load("examples/ingress.yaml"))[0]!.kind).toBe("Ingress");
    expect((await load("examples/function.yaml"))[0]!.kind).toBe("Function");
  });
});
