import { mkdir, readdir, writeFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { parseVerbArgs } from "../args.ts";
import { CliError, UsageError } from "../errors.ts";
import { report, type Io } from "../io.ts";
import { makeTemplateFiles, TEMPLATE_NAMES, type TemplateName } from "../templates.ts";

const USAGE = "init <dir> [--template http|event|model] [--name NAME]";

/** `skiff init`: writes a runnable function from a template into a new or empty directory. */
export async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseVerbArgs(argv, { template: { type: "string", default: "http" }, name: { type: "string" } }, USAGE);
  if (positionals.length !== 1) throw new UsageError("expected exactly one directory", USAGE);
  const template = values.template as string;
  if (!(TEMPLATE_NAMES as readonly string[]).includes(template)) {
    throw new UsageError(`--template must be one of ${TEMPLATE_NAMES.join(", ")}, got "${template}"`, USAGE);
  }
  const dir = resolve(positionals[0]!);
  const name = (values.name as string | undefined) ?? nameFromDir(dir);
  await ensureEmpty(dir);
  const files = makeTemplateFiles(name, template as TemplateName);
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content, { flag: "wx" });
  }
  report(io, values.json as boolean, { dir, name, template, files: Object.keys(files) },
    `created ${template} function "${name}" in ${dir}\nnext: skiff dev ${positionals[0]}`);
  return 0;
}

/** A DNS-1123 label from the directory name, so the default just works. */
function nameFromDir(dir: string): string {
  const name = basename(dir).toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/^[^a-z]+/, "").replace(/-+$/, "").slice(0, 63);
  if (!name) throw new UsageError(`cannot derive a function name from "${basename(dir)}"; pass --name`, USAGE);
  return name;
}

async function ensureEmpty(dir: string): Promise<void> {
  const entries = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return [];
    throw new CliError(`cannot read ${dir}: ${error.message}`);
  });
  if (entries.length > 0) throw new CliError(`${dir} is not empty; choose a new directory`);
}
