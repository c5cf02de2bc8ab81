// A single-member etcd for one test control plane: loopback only, fresh data dir, no fsync
// (the data is thrown away; fsync is most of etcd's write latency on a small VM).
import { join } from "node:path";
import { launchOnFreePorts, stopGracefully } from "./kube-launch.ts";
import { kubeToolPath } from "./kube-tools.ts";
import type { TestProcess } from "./processes.ts";

const READY_TIMEOUT_MS = 20_000;

export interface TestEtcd {
  /** http://127.0.0.1:<client port>, for --etcd-servers. */
  readonly url: string;
  readonly process: TestProcess;
  stop(): Promise<void>;
}

/** Starts etcd with its data under `dir` and resolves once /health says true. */
export async function startEtcd(dir: string): Promise<TestEtcd> {
  const url = (port: number | undefined): string => `http://127.0.0.1:${port}`;
  const { process, ports } = await launchOnFreePorts({
    what: "etcd",
    ports: 2,
    command: kubeToolPath("etcd"),
    args: ([client, peer]) => [
      "--name=skiff-test",
      `--data-dir=${join(dir, "etcd")}`,
      `--listen-client-urls=${url(client)}`,
      `--advertise-client-urls=${url(client)}`,
      `--listen-peer-urls=${url(peer)}`,
      // The defaults name localhost:2380; they must agree with the peer URL actually used.
      `--initial-advertise-peer-urls=${url(peer)}`,
      `--initial-cluster=skiff-test=${url(peer)}`,
      "--unsafe-no-fsync=true",
      "--log-level=warn",
    ],
    ready: async ([client]) => {
      const res = await fetch(`${url(client)}/health`, { signal: AbortSignal.timeout(1_000) });
      return res.ok && ((await res.json()) as { health?: string }).health === "true";
    },
    timeoutMs: READY_TIMEOUT_MS,
  });
  return { url: url(ports[0]), process, stop: () => stopGracefully(process) };
}
