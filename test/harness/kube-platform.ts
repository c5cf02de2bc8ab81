// Installs the platform's manifests into a test control plane the way a user would
// (`kubectl apply --server-side -k manifests`), and binds token users to the manifests'
// ClusterRoles so the controller and the gateway run with exactly the rights rbac.yaml grants.
import type { KubeControlPlane } from "./kube.ts";

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
