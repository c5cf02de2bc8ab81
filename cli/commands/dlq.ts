import type { DeadLetterSummary } from "../../controller/api/index.ts";
import { parseVerbArgs } from "../args.ts";
import { UsageError } from "../errors.ts";
import { report, type Io } from "../io.ts";
import { connectPlatform, STATE_DIR_OPTION } from "../platform-client.ts";
import { formatTable } from "../table.ts";

const USAGE = "dlq list <fn> [--limit N] | dlq redrive <fn> [--state-dir DIR]";

/** `skiff dlq list|redrive`: a function's dead letters, and their replay on the original subjects. */
export async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseVerbArgs(argv, { ...STATE_DIR_OPTION, limit: { type: "string" } }, USAGE);
  const [sub, name, ...extra] = positionals;
  if (sub !== "list" && sub !== "redrive") {
    throw new UsageError(sub === undefined ? "expected a subcommand: list or redrive" : `unknown subcommand "${sub}" (expected list or redrive)`, USAGE);
  }
  if (name === undefined || extra.length > 0) throw new UsageError("expected one function name", USAGE);
  if (sub === "redrive" && values.limit !== undefined) throw new UsageError("--limit applies to dlq list only", USAGE);
  const limit = parseLimit(values.limit as string | undefined);
  const { client } = await connectPlatform(values["state-dir"] as string | undefined);
  const json = values.json as boolean;
  if (sub === "list") {
    const letters = await client.dlqList(name, limit === undefined ? {} : { limit });
    report(io, json, { deadLetters: letters }, letters.length ? formatDeadLetters(letters) : `no dead letters for ${name}`);
    return 0;
  }
  const result = await client.dlqRedrive(name);
  report(io, json, result, `redrove ${result.redriven} dead letter${result.redriven === 1 ? "" : "s"} of ${name} (${result.failed} failed, ${result.remaining} remaining)`);
  if (result.failed > 0 && !json) io.err(`skiff dlq: ${result.failed} dead letter${result.failed === 1 ? "" : "s"} could not be redriven; they stay in the queue (see the platform log)`);
  return result.failed > 0 ? 1 : 0;
}

/** The dead letters as a table: one row each, the event's type and id when readable. */
export function formatDeadLetters(letters: DeadLetterSummary[]): string {
  const rows = letters.map((d) => [
    String(d.seq), d.time, d.subject, d.reason, d.status ? String(d.status) : "-", String(d.deliveries),
    d.event ? `${d.event.type} ${d.event.id}` : "(unreadable)", oneLine(d.error ?? ""),
  ]);
  return formatTable(["SEQ", "TIME", "SUBJECT", "REASON", "STATUS", "DELIVERIES", "EVENT", "ERROR"], rows);
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > 120 ? `${flat.slice(0, 120)}…` : flat;
}

function parseLimit(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[0-9]+$/.test(value) || Number(value) < 1) throw new UsageError(`--limit must be a whole number >= 1, got "${value}"`, USAGE);
  return Number(value);
}
