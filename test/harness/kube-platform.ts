// Installs the platform's manifests into a test control plane the way a user would
// (`kubectl apply --server-side -k manifests`), binds token users to the manifests'
// ClusterRoles so the controller and the gateway run with exactly the rights rbac.yaml grants,
// and starts the whole Kubernetes mode on a fake node.
import { CoreV1Api } from "@kubernetes/client-node";
import { startKubeController, startKubeGateway, type KubeController, type KubeGateway } from "../../controller/kube/index.ts";
import { startKubeControlPlane, type KubeControlPlane } from "./kube.ts";
import { startFakeNode, type FakeNode } from "./kube-node.ts";
import { waitFor } from "./wait-for.ts";

/** The token users a control plane must declare for bindPlatformRoles. */
export const PLATFORM_USERS = [{ name: "skiff-controller" }, { name: "skiff-gateway" }] as const;

/** kubectl apply -k manifests; throws with kubectl's output on failure. */
export async function applyManifests(plane: KubeControlPlane): Promise<void> {
  const applied = await plane.kubectl(["apply", "--server-side", "-k", "manifests"]);
  if (applied.code !== 0) throw new Error(`kubectl apply -k manifests failed: ${applied.stderr}`);
}

/** Binds the users "skiff-controller" and "skiff-gateway" to the ClusterRoles of the same names (standing in for the service accounts). */
export async function bindPlatformRoles(plane: KubeControlPlane): Promise<void> {
  const bindings = PLATFORM_USERS.map(({ name }) => JSON.stringify({
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRoleBinding",
    metadata: { name: `${name}-test-user` },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name },
    subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name }],
  }));
  const bound = await plane.kubectl(["apply", "-f", "-"], { input: bindings.join("\n") });
  if (bound.code !== 0) throw new Error(`binding the test users failed: ${bound.stderr}`);
}

/** Where each component of startKubePlatform logs (default: nowhere). */
type Logger = { info(msg: string, fields?: Record<string, unknown>): void; warn(msg: string, fields?: Record<string, unknown>): void; error(msg: string, fields?: Record<string, unknown>): void };
const quiet: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };

export interface KubePlatformOptions {
  /** The namespace Functions live in (created here) and the gateway serves. */
  namespace: string;
  /** The built function folder the fake node runs for a revision's Deployment. */
  bundleDir(revisionId: string): string;
  natsUrl?: string;
  loggers?: { controller?: Logger; gateway?: Logger; node?: Logger };
}

/** The whole Kubernetes mode on a test control plane: the caller stops each part (tests restart some). */
export interface KubePlatform {
  plane: KubeControlPlane;
  node: FakeNode;
  controller: KubeController;
  gateway: KubeGateway;
  /** Another controller, as the controller role, logging where the first one does. */
  startController(): Promise<KubeController>;
}

/**
 * A control plane with manifests/ applied and the platform roles bound, a namespace, a fake
 * node, and the controller and the gateway running as the manifests' least-privilege roles.
 */
export async function startKubePlatform(opts: KubePlatformOptions): Promise<KubePlatform> {
  const plane = await startKubeControlPlane({ users: PLATFORM_USERS });
  const kc = plane.kubeConfig();
  await applyManifests(plane);
  await bindPlatformRoles(plane);
  await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name: opts.namespace } } });
  await waitFor(async () => (await plane.kubectl(["get", "functions", "-n", opts.namespace])).code === 0, { what: "the Function API", timeoutMs: 20_000 });
  const node = await startFakeNode({ kc, namespace: opts.namespace, bundleDir: opts.bundleDir, ...(opts.loggers?.node && { logger: opts.loggers.node }) });
  const startController = () =>
    startKubeController({ kc: plane.user("skiff-controller").kubeConfig(), gatewayUrl: "http://gateway.test", logger: opts.loggers?.controller ?? quiet });
  // RBAC grants reach the authorizer's cache a moment after they are written.
  const controller = await waitFor(() => startController(), { what: "the controller to start", timeoutMs: 20_000 });
  const gateway = await startKubeGateway({
    kc: plane.user("skiff-gateway").kubeConfig(),
    namespace: opts.namespace,
    host: "127.0.0.1",
    port: 0,
    ...(opts.natsUrl && { natsUrl: opts.natsUrl }),
    logger: opts.loggers?.gateway ?? quiet,
  });
  return { plane, node, controller, gateway, startController };
}

/** Stops what startKubePlatform started, data plane first (any part may be missing or replaced by the test). */
export async function stopKubePlatform(parts: Partial<Pick<KubePlatform, "plane" | "node" | "controller" | "gateway">>): Promise<void> {
  await parts.gateway?.stop();
  await parts.controller?.stop();
  await parts.node?.stop();
  await parts.plane?.stop();
}
