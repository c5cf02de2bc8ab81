import type { FunctionDescription } from "../../controller/api/index.ts";
import { formatDuration } from "../../spec/index.ts";
import { parseVerbArgs } from "../args.ts";
import { UsageError } from "../errors.ts";
import { report, type Io } from "../io.ts";
import { connectPlatform, STATE_DIR_OPTION } from "../platform-client.ts";
import { formatTable } from "../table.ts";

const USAGE = "describe <fn> [--state-dir DIR]";

/** `skiff describe`: revisions, traffic, replicas, recent scale decisions and cold starts of a function. */
export async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseVerbArgs(argv, STATE_DIR_OPTION, USAGE);
  if (positionals.length !== 1) throw new UsageError("expected one function name", USAGE);
  const { client } = await connectPlatform(values["state-dir"] as string | undefined);
  const description = await client.describe(positionals[0]!);
  report(io, values.json as boolean, description, formatDescription(description));
  return 0;
}

const time = (ms: number) => new Date(ms).toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");

/** The human form of `describe`. */
export function formatDescription(d: FunctionDescription): string {
  const lines = [`name:      ${d.name}`, `url:       ${d.url}`, `replicas:  ${d.replicas.ready} ready / ${d.replicas.desired} desired`];
  if (d.spec) lines.push(`scale:     min ${d.spec.scale.min}, max ${d.spec.scale.max}, concurrency ${d.spec.scale.concurrency}, target ${d.spec.scale.target}, to zero after ${formatDuration(d.spec.scale.scaleToZeroAfterMs)}`);
  lines.push("", "revisions:", formatTable(["REVISION", "TRAFFIC", "CREATED"], d.revisions.map((r) => [r.isolation === "container" ? `${r.id} (container)` : r.id, `${r.percent}%`, time(r.createdAtMs)])));
  if (d.replicas.list.length) {
    lines.push("", "replicas:", formatTable(["REPLICA", "PHASE", "STARTED", "COLD START"], d.replicas.list.map((r) => [r.id, r.phase + (r.exitReason ? ` (${r.exitReason})` : ""), time(r.startedAtMs), r.readyAtMs ? `${r.readyAtMs - r.startedAtMs}ms` : "-"])));
  }
  if (d.scaleEvents.length) {
    lines.push("", "recent scale decisions:", ...d.scaleEvents.map((e) => `  ${time(e.atMs)}  ${e.from} -> ${e.desired}  ${e.mode}  ${e.reason}`));
  }
  return lines.join("\n");
}
