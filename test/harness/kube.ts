// A real Kubernetes control plane per suite: etcd + kube-apiserver built from Go modules
// (.ci/build-kube-tools), on 127.0.0.1 random ports, with an admin token (system:masters) and
// least-privilege token users for RBAC tests. No kube-controller-manager, scheduler or kubelet:
// tests that need pods play the node themselves. Missing binaries: the suite skips with the
// build command, or fails under CI=true, where every suite must run.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { afterAll, describe, it } from "vitest";
import { startApiserver, type ApiserverFiles, type TestApiserver } from "./kube-apiserver.ts";
import { startEtcd, type TestEtcd } from "./kube-etcd.ts";
import { writeKubeconfig, writeServiceAccountKeys, writeTokenFile, type KubeUserSpec } from "./kube-files.ts";
import { kubeToolPath, missingKubeTools } from "./kube-tools.ts";

export type { KubeUserSpec } from "./kube-files.ts";

/** One authenticated user of the control plane. */
export interface KubeIdentity {
  readonly name: string;
  readonly token: string;
  /** A kubeconfig for this user alone (server, CA, token): pass to kubectl or any client. */
  readonly kubeconfigPath: string;
  /** A fresh @kubernetes/client-node KubeConfig loaded from kubeconfigPath. */
  kubeConfig(): KubeConfig;
  /** Runs the built kubectl as this user; never throws on a non-zero exit. */
  kubectl(args: readonly string[], options?: { input?: string }): Promise<{ code: number | string; stdout: string; stderr: string }>;
}

/** A running control plane; the top-level identity is the admin (system:masters). */
export interface KubeControlPlane extends KubeIdentity {
  /** https://127.0.0.1:<port> */
  readonly url: string;
  /** base64 of the serving chain, as kubeconfig's certificate-authority-data. TLS is verified, never skipped. */
  readonly caData: string;
  /** http://127.0.0.1:<port> of etcd. */
  readonly etcdUrl: string;
  /** A user declared in options.users (default: one user "tester" with no groups, so no rights until RBAC grants some). */
  user(name: string): KubeIdentity;
  /**
   * Stops the apiserver gracefully and starts it again with the same flags, port and cert dir
   * (so the same CA: kubeconfigs and clients keep working) against the same etcd (every object
   * kept). Resolves once it is ready again. Clients see the outage: watches end, calls fail.
   */
  restartApiserver(): Promise<void>;
  /** The apiserver's (every run of it) and etcd's output so far, for failure messages. */
  output(): string;
  /** Stops both processes and removes every temp file. Safe to call twice. */
  stop(): Promise<void>;
}

export interface KubeControlPlaneOptions {
  /** Token users besides the admin; static tokens are read once at start, so declare them here. */
  readonly users?: readonly KubeUserSpec[];
}

const ADMIN: KubeUserSpec = { name: "skiff-admin", groups: ["system:masters"] };
const DEFAULT_USERS: readonly KubeUserSpec[] = [{ name: "tester" }];

const isCI = (): boolean => process.env.CI === "true" || process.env.CI === "1";

/** describe() that needs the kube binaries: skipped with a console message when missing, failed under CI=true. */
export function describeWithKube(name: string, fn: () => void): void {
  const reason = missingKubeTools();
  if (reason !== undefined && isCI()) {
    describe(name, () => it("needs kube-apiserver, kubectl and etcd", () => { throw new Error(reason); }));
    return;
  }
  if (reason !== undefined) console.warn(`skipping "${name}": ${reason}`);
  describe.skipIf(reason !== undefined)(name, fn);
}

// Every plane a file started, so the file's end (or a crashed worker) never leaves one behind.
const live = new Set<KubeControlPlane>();
const tempDirs = new Set<string>();
afterAll(async () => {
  await Promise.all([...live].map((plane) => plane.stop()));
});
process.once("exit", () => {
  // kube-launch.ts SIGKILLs the processes; only synchronous cleanup is possible here.
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

/** Starts etcd and kube-apiserver and resolves once the apiserver is ready (typically 5–15 s). */
export async function startKubeControlPlane(options: KubeControlPlaneOptions = {}): Promise<KubeControlPlane> {
  const reason = missingKubeTools();
  if (reason !== undefined) throw new Error(reason);
  const specs = [ADMIN, ...(options.users ?? DEFAULT_USERS)];
  const names = specs.map((u) => u.name);
  const duplicate = names.find((n, i) => names.indexOf(n) !== i);
  if (duplicate !== undefined) throw new Error(`kube user "${duplicate}" is declared twice`);

  const dir = mkdtempSync(join(tmpdir(), "skiff-kube-"));
  tempDirs.add(dir);
  let etcd: TestEtcd | undefined;
  let apiserver: TestApiserver | undefined;
  let restarting: Promise<void> | undefined;
  const cleanup = async (): Promise<void> => {
    // A restart under way finishes first, so its new process is the one stopped.
    await restarting?.catch(() => undefined);
    // The apiserver first: stopping etcd under it only produces a burst of error logs.
    await apiserver?.stop();
    await etcd?.stop();
    rmSync(dir, { recursive: true, force: true });
    tempDirs.delete(dir);
  };
  try {
    const users = writeTokenFile(join(dir, "tokens.csv"), specs);
    const keys = writeServiceAccountKeys(dir);
    etcd = await startEtcd(dir);
    const files: ApiserverFiles = {
      dir,
      etcdUrl: etcd.url,
      tokenFile: join(dir, "tokens.csv"),
      adminToken: users[0]!.token,
      serviceAccountPublicKeyFile: keys.publicKeyFile,
      serviceAccountPrivateKeyFile: keys.privateKeyFile,
    };
    apiserver = await startApiserver(files);
    const server = apiserver.url;
    const caData = Buffer.from(apiserver.caPem).toString("base64");
    const identities = new Map(
      users.map((u) => {
        const kubeconfigPath = join(dir, `kubeconfig-${u.name.replace(/[^A-Za-z0-9_.-]/g, "_")}.yaml`);
        writeKubeconfig(kubeconfigPath, { server, caData, user: u.name, token: u.token });
        return [u.name, identity(u.name, u.token, kubeconfigPath, dir)];
      }),
    );
    const admin = identities.get(ADMIN.name)!;
    let stopped: Promise<void> | undefined;
    const running = { etcd, apiserver };
    let earlierApiserverOutput = "";
    const restart = async (): Promise<void> => {
      const before = running.apiserver;
      await before.stop();
      earlierApiserverOutput += `${before.process.output()}\n--- kube-apiserver (restarted) ---\n`;
      // It finds its serving cert in the cert dir and keeps it, so the CA clients trust is unchanged.
      running.apiserver = apiserver = await startApiserver(files, { port: Number(new URL(server).port) });
      if (running.apiserver.caPem !== before.caPem) throw new Error("the restarted kube-apiserver made a new serving certificate; kubeconfigs no longer verify it");
    };
    const plane: KubeControlPlane = {
      ...admin,
      url: server,
      caData,
      etcdUrl: etcd.url,
      user: (name) => {
        const found = identities.get(name);
        if (!found) throw new Error(`no kube user "${name}": declare it in startKubeControlPlane({ users })`);
        return found;
      },
      restartApiserver: () => {
        if (stopped) return Promise.reject(new Error("the control plane is stopped"));
        // One at a time: a second call restarts it again once the first is done.
        const next = (restarting ?? Promise.resolve()).catch(() => undefined).then(restart);
        restarting = next;
        return next;
      },
      output: () => `--- kube-apiserver ---\n${earlierApiserverOutput}${running.apiserver.process.output()}\n--- etcd ---\n${running.etcd.process.output()}`,
      stop: () => {
        live.delete(plane);
        return (stopped ??= cleanup());
      },
    };
    live.add(plane);
    return plane;
  } catch (error) {
    await cleanup();
    throw error;
  }
}

function identity(name: string, token: string, kubeconfigPath: string, dir: string): KubeIdentity {
  return {
    name,
    token,
    kubeconfigPath,
    kubeConfig: () => {
      const kc = new KubeConfig();
      kc.loadFromFile(kubeconfigPath);
      return kc;
    },
    // The discovery cache goes to the plane's temp dir, not ~/.kube, so runs never share one.
    kubectl: (args, options = {}) =>
      runKubectl(["--kubeconfig", kubeconfigPath, "--cache-dir", join(dir, "kubectl-cache"), ...args], options.input),
  };
}

async function runKubectl(args: string[], input: string | undefined): Promise<{ code: number | string; stdout: string; stderr: string }> {
  const child = spawn(kubeToolPath("kubectl"), args, { stdio: ["pipe", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  child.stdin.end(input ?? "");
  // "close", not "exit": close waits until stdout and stderr are drained.
  const [code, signal] = await once(child, "close");
  return { code: (code ?? signal) as number | string, stdout, stderr };
}
