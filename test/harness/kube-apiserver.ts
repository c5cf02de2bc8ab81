// kube-apiserver for one test control plane, with envtest's flags (controller-runtime
// pkg/internal/testing/controlplane): loopback only, self-signed serving cert, static tokens,
// RBAC. No controller-manager runs, so nothing that needs one (namespace deletion, GC,
// Deployments -> ReplicaSets, service-account tokens) happens unless a test does it itself.
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { kubeGet } from "./kube-http.ts";
import { launchOnFreePorts, stopGracefully } from "./kube-launch.ts";
import { kubeToolPath } from "./kube-tools.ts";
import type { TestProcess } from "./processes.ts";
import { waitFor } from "./wait-for.ts";

// Cold start on 2 cores: RBAC bootstrap roles, priority-and-fairness config and CRD discovery
// are post-start hooks that /readyz waits for.
const READY_TIMEOUT_MS = 60_000;

export interface TestApiserver {
  /** https://127.0.0.1:<port> */
  readonly url: string;
  /** The self-signed serving chain (PEM): trust this, not the system roots. */
  readonly caPem: string;
  readonly process: TestProcess;
  stop(): Promise<void>;
}

export interface ApiserverFiles {
  /** Working dir: cert-dir lives under it. */
  readonly dir: string;
  readonly etcdUrl: string;
  readonly tokenFile: string;
  /** A system:masters token, used to poll health before RBAC's bootstrap roles exist. */
  readonly adminToken: string;
  readonly serviceAccountPublicKeyFile: string;
  readonly serviceAccountPrivateKeyFile: string;
}

/** How to start it again in place of a stopped one (kube.ts's restartApiserver). */
export interface ApiserverRestart {
  /** The stopped one's port: kubeconfigs name it. Its cert dir is reused, so the CA stays the same. */
  readonly port: number;
}

/**
 * Starts kube-apiserver and resolves once /readyz passes and the `default` namespace exists.
 * With `restart`, on that port and kept until the file ends (a restart happens inside a test).
 */
export async function startApiserver(files: ApiserverFiles, restart?: ApiserverRestart): Promise<TestApiserver> {
  const certDir = join(files.dir, "certs");
  mkdirSync(certDir, { recursive: true });
  // The apiserver writes its self-signed chain (serving cert, then its CA) here before serving.
  const certFile = join(certDir, "apiserver.crt");
  const readCa = (): string | undefined => (existsSync(certFile) ? readFileSync(certFile, "utf8") : undefined);

  const { process, ports } = await launchOnFreePorts({
    what: "kube-apiserver",
    ports: 1,
    command: kubeToolPath("kube-apiserver"),
    args: ([port]) => [
      `--etcd-servers=${files.etcdUrl}`,
      `--cert-dir=${certDir}`,
      `--secure-port=${port}`,
      "--bind-address=127.0.0.1",
      "--advertise-address=127.0.0.1",
      // On SIGTERM, end open watches (clients see their stream close) and exit; without it a
      // single open watch holds the process until stopGracefully's SIGKILL.
      "--shutdown-watch-termination-grace-period=2s",
      "--service-cluster-ip-range=10.0.0.0/24",
      "--allow-privileged=true",
      // Real authorization, so RBAC manifests can be tested with a least-privilege user.
      "--authorization-mode=RBAC",
      `--token-auth-file=${files.tokenFile}`,
      // The ServiceAccount admission plugin wants token controllers that do not run here.
      "--disable-admission-plugins=ServiceAccount",
      `--service-account-issuer=https://127.0.0.1:${port}`,
      `--service-account-key-file=${files.serviceAccountPublicKeyFile}`,
      `--service-account-signing-key-file=${files.serviceAccountPrivateKeyFile}`,
    ],
    ready: async ([port]) => {
      const ca = readCa();
      if (ca === undefined) return false;
      const res = await kubeGet(`https://127.0.0.1:${port}`, "/readyz", { ca, token: files.adminToken });
      return res.status === 200;
    },
    timeoutMs: READY_TIMEOUT_MS,
    ...(restart && { fixedPorts: [restart.port], untilFileEnd: true }),
  });
  const url = `https://127.0.0.1:${ports[0]}`;
  const caPem = readCa()!;
  const stop = (): Promise<void> => stopGracefully(process);
  try {
    // The bootstrap controller creates `default` (and kube-system) just after /readyz; tests
    // that list namespaces or create into `default` would race it.
    await waitFor(
      async () => (await kubeGet(url, "/api/v1/namespaces/default", { ca: caPem, token: files.adminToken })).status === 200,
      { what: "namespace default to exist", timeoutMs: 10_000, intervalMs: 50 },
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, caPem, process, stop };
}
