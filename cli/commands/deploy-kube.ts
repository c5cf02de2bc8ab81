// `skiff deploy --kube`: build the function's image, push it, server-side apply a Function
// pinned to the pushed digest, and wait for Ready, printing each step; then the URL.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { SPEC_FILE_NAMES } from "../../spec/index.ts";
import { CliError, UsageError } from "../errors.ts";
import { buildFunctionImage } from "../image-build.ts";
import { report, type Io } from "../io.ts";
import { applyFunction, makeFunctionManifest, waitForReady } from "../kube-apply.ts";
import { loadKubeConfig } from "../kube-config.ts";

/** The flags of a kube deploy (already parsed by deploy.ts). */
export interface KubeDeployFlags {
  dir: string;
  image?: string | undefined;
  base?: string | undefined;
  insecure: boolean;
  namespace?: string | undefined;
  kubeconfig?: string | undefined;
  context?: string | undefined;
  timeoutMs: number;
  json: boolean;
}

export async function deployToKube(flags: KubeDeployFlags, io: Io, usage: string): Promise<number> {
  const image = flags.image ?? (process.env.SKIFF_REGISTRY ? undefined : null);
  if (image === null) throw new UsageError("--kube needs --image REGISTRY/REPO[:TAG] (or SKIFF_REGISTRY) to push the function's image to", usage);
  // Fail on the cluster's config before minutes of building and pushing.
  const kc = loadKubeConfig(flags);
  const namespace = flags.namespace ?? kc.getContextObject(kc.getCurrentContext())?.namespace ?? "default";
  const fields = await readSpecFields(flags.dir);
  const name = typeof fields.name === "string" ? fields.name : undefined;
  if (!name) throw new CliError(`${flags.dir}: function.yaml has no name`);
  const progress = (line: string) => io.err(`skiff deploy: ${line}`);
  const built = await buildFunctionImage(flags.dir, {
    image: image ?? `${process.env.SKIFF_REGISTRY!.replace(/\/+$/, "")}/${name}`,
    push: true,
    insecure: flags.insecure,
    ...(flags.base !== undefined && { base: flags.base }),
    onProgress: progress,
  });
  const pushed = built.push!;
  progress(`pushed ${pushed.reference}`);
  const applied = await applyFunction(kc, makeFunctionManifest(name, namespace, fields, pushed.reference));
  progress(`applied Function ${namespace}/${name} (generation ${applied.metadata?.generation ?? "?"})`);
  const ready = await waitForReady(kc, namespace, name, applied.metadata?.generation ?? 1, { timeoutMs: flags.timeoutMs, progress });
  const status = ready.status ?? {};
  report(io, flags.json, { name, namespace, image: pushed.reference, revision: status.latestRevision, url: status.url, bytesUploaded: pushed.bytesUploaded }, `${name}: revision ${status.latestRevision ?? "?"} is ready\n${status.url ?? "(event-only: no URL)"}`);
  return 0;
}

/** function.yaml's fields as written (the Function's spec carries them, the cluster validates them again). */
async function readSpecFields(dir: string): Promise<Record<string, unknown>> {
  for (const file of SPEC_FILE_NAMES) {
    const text = await readFile(join(dir, file), "utf8").catch(() => undefined);
    if (text === undefined) continue;
    const value: unknown = parseYaml(text);
    if (typeof value !== "object" || value === null || Array.isArray(value)) throw new CliError(`${join(dir, file)}: expected a mapping of fields`);
    return value as Record<string, unknown>;
  }
  throw new CliError(`no function.yaml in ${dir} (create one, or run "skiff init")`);
}
