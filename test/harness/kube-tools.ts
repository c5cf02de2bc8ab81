// Where .ci/build-kube-tools puts kube-apiserver, kubectl and etcd. Same rule as the script:
// ${SKIFF_TOOLS_DIR:-~/.cache/skiff/tools}/kube-<K8S_VERSION>-etcd-<ETCD_VERSION>/bin, with the
// versions read from the one file both share, so a bump can never leave them disagreeing.
import { accessSync, constants, existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const VERSIONS_FILE = fileURLToPath(new URL("../../.ci/kube-tools/versions.env", import.meta.url));

/** The binaries a control plane (and a test that drives it with kubectl) needs. */
export const KUBE_TOOLS = ["kube-apiserver", "kubectl", "etcd"] as const;
export type KubeTool = (typeof KUBE_TOOLS)[number];

/** The pinned versions, e.g. { k8s: "1.34.4", etcd: "3.6.16" }. */
export function kubeToolVersions(): { k8s: string; etcd: string } {
  const vars = new Map<string, string>();
  for (const line of readFileSync(VERSIONS_FILE, "utf8").split("\n")) {
    const match = /^\s*([A-Z0-9_]+)=(.*)$/.exec(line);
    if (match) vars.set(match[1]!, match[2]!.trim().replace(/^["']|["']$/g, ""));
  }
  const k8s = vars.get("K8S_VERSION");
  const etcd = vars.get("ETCD_VERSION");
  if (!k8s || !etcd) throw new Error(`${VERSIONS_FILE} must set K8S_VERSION and ETCD_VERSION`);
  return { k8s, etcd };
}

/** The bin dir of the pinned version set (it may not be built yet). */
export function kubeToolsDir(): string {
  const { k8s, etcd } = kubeToolVersions();
  const root = process.env.SKIFF_TOOLS_DIR || join(homedir(), ".cache", "skiff", "tools");
  return join(root, `kube-${k8s}-etcd-${etcd}`, "bin");
}

/** Absolute path of one built binary. */
export function kubeToolPath(tool: KubeTool): string {
  return join(kubeToolsDir(), tool);
}

/** Why the binaries cannot be used (with the fix), or undefined when all are built. */
export function missingKubeTools(): string | undefined {
  const dir = kubeToolsDir();
  // The script writes the stamp last: without it a set may be half-built.
  const complete = existsSync(join(dir, "..", ".complete"));
  const missing = KUBE_TOOLS.filter((tool) => {
    try {
      accessSync(join(dir, tool), constants.X_OK);
      return false;
    } catch {
      return true;
    }
  });
  if (complete && missing.length === 0) return undefined;
  const what = missing.length > 0 ? `${missing.join(", ")} not built` : "build not finished";
  const { k8s, etcd } = kubeToolVersions();
  return `${what} in ${dir} (k8s v${k8s}, etcd v${etcd}): run \`bash .ci/build-kube-tools\` (needs Go; many minutes cold)`;
}
