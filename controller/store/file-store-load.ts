// Loading the file store at startup: read every function document, set aside corrupt
// ones (reported, never fatal), and remove what interrupted writes left behind. Runs
// before any operation, so nothing else is writing while it cleans.
import { mkdir, readFile, readdir, rm, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { NAME_PATTERN } from "../../spec/index.ts";
import { isTempName, syncDir } from "./atomic-file.ts";
import { parseFunctionDocument } from "./document.ts";
import { CorruptStateError } from "./errors.ts";
import type { StoreLayout } from "./layout.ts";
import type { FunctionRecord, StoreProblem } from "./types.ts";

/** What loading found: readable records, corrupt functions, and other problems. */
export interface LoadedState {
  records: Map<string, FunctionRecord>;
  corrupt: Map<string, CorruptStateError>;
  problems: StoreProblem[];
}

/** Reads every document under the layout and cleans leftovers; never throws for a single bad document. */
export async function loadState(layout: StoreLayout): Promise<LoadedState> {
  await mkdir(layout.functionsDir, { recursive: true, mode: 0o700 });
  await mkdir(layout.revisionsDir, { recursive: true, mode: 0o755 });
  await syncDir(dirname(layout.functionsDir));
  const state: LoadedState = { records: new Map(), corrupt: new Map(), problems: [] };
  for (const entry of await readdir(layout.functionsDir)) {
    const file = join(layout.functionsDir, entry);
    // A temp file is a write that never reached its rename: the old document still stands.
    if (isTempName(entry)) await rm(file, { force: true });
    else if (entry.endsWith(".json") && NAME_PATTERN.test(entry.slice(0, -5))) await loadDocument(layout, entry.slice(0, -5), state);
    else state.problems.push({ file, message: "unexpected file in the functions directory (ignored)" });
  }
  await cleanRevisions(layout, state);
  return state;
}

async function loadDocument(layout: StoreLayout, name: string, state: LoadedState): Promise<void> {
  const file = layout.documentPath(name);
  try {
    const text = await readFile(file, "utf8");
    const record = parseFunctionDocument(text, { file, name, bundleDir: layout.bundleDir });
    await checkBundleDirs(record, file);
    state.records.set(name, record);
  } catch (error) {
    const corrupt = error instanceof CorruptStateError
      ? error
      : new CorruptStateError(file, `cannot read it (${(error as Error).message})`, { cause: error });
    state.corrupt.set(name, corrupt);
  }
}

async function checkBundleDirs(record: FunctionRecord, file: string): Promise<void> {
  for (const revision of record.revisions) {
    const info = await stat(revision.bundleDir).catch(() => undefined);
    if (!info?.isDirectory()) throw new CorruptStateError(file, `files of revision ${revision.id} are missing at ${revision.bundleDir}`);
  }
}

// Revision directories nobody references come from a crash between moving files into place
// and writing the document (or between deleting a document and its files): remove them.
// A corrupt function's files are kept, since its document may still be repaired by hand.
async function cleanRevisions(layout: StoreLayout, state: LoadedState): Promise<void> {
  for (const name of await readdir(layout.revisionsDir)) {
    if (state.corrupt.has(name)) continue;
    const dir = join(layout.revisionsDir, name);
    const record = state.records.get(name);
    if (record === undefined) {
      await rm(dir, { recursive: true, force: true });
      continue;
    }
    const referenced = new Set(record.revisions.map((revision) => revision.id));
    for (const entry of await readdir(dir)) {
      if (!referenced.has(entry)) await rm(join(dir, entry), { recursive: true, force: true });
    }
  }
}
