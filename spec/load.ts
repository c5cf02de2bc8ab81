import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { SpecError } from "./errors.ts";
import { parseFunctionSpec } from "./parse.ts";
import type { FunctionSpec } from "./types.ts";

/** File names looked for in a function directory, preferred first. */
export const SPEC_FILE_NAMES = ["function.yaml", "function.yml"] as const;

/** Reads and parses `<dir>/function.yaml` (or function.yml); throws SpecError when it is missing, unreadable or invalid. */
export async function loadFunctionSpec(dir: string): Promise<FunctionSpec> {
  const found: { file: string; text: string }[] = [];
  for (const name of SPEC_FILE_NAMES) {
    const file = join(dir, name);
    const text = await readIfExists(file);
    if (text !== undefined) found.push({ file, text });
  }
  const [first, second] = found;
  if (!first) {
    throw new SpecError([{ path: "", message: `no function.yaml in ${resolve(dir)} (create one, or run "skiff init")` }]);
  }
  if (second) {
    // Picking one silently would let edits to the other go unnoticed.
    throw new SpecError([{ path: "", message: `both ${first.file} and ${second.file} exist (keep one)` }]);
  }
  return parseFunctionSpec(first.text, { file: first.file });
}

async function readIfExists(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw new SpecError([{ path: "", message: `cannot read ${file}: ${(error as Error).message}` }], { cause: error });
  }
}
