// Which cluster a kube verb talks to: --kubeconfig and --context when given, else the client's
// usual search (in-cluster service account, $KUBECONFIG, ~/.kube/config).
import { existsSync } from "node:fs";
import { KubeConfig } from "@kubernetes/client-node";
import { CliError } from "./errors.ts";

/** Flags every kube verb takes. */
export const KUBE_OPTIONS = {
  kubeconfig: { type: "string" },
  context: { type: "string" },
} as const;

/** Loads the kubeconfig; a missing file or unknown context is a CliError naming it. */
export function loadKubeConfig(flags: { kubeconfig?: string | undefined; context?: string | undefined }): KubeConfig {
  const kc = new KubeConfig();
  if (flags.kubeconfig !== undefined) {
    if (!existsSync(flags.kubeconfig)) throw new CliError(`--kubeconfig ${flags.kubeconfig}: no such file`);
    kc.loadFromFile(flags.kubeconfig);
  } else {
    kc.loadFromDefault();
  }
  if (flags.context !== undefined) {
    if (!kc.getContexts().some((c) => c.name === flags.context)) {
      throw new CliError(`--context ${flags.context}: no such context (have: ${kc.getContexts().map((c) => c.name).join(", ") || "none"})`);
    }
    kc.setCurrentContext(flags.context);
  }
  if (!kc.getCurrentCluster()) throw new CliError("no Kubernetes cluster configured: pass --kubeconfig, set KUBECONFIG, or run inside a cluster");
  return kc;
}
