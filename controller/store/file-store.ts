// The local FunctionStore: one JSON document per function under `<stateDir>/functions/`,
// revision files under `<stateDir>/revisions/<fn>/<id>/`. Records are cached in memory
// (this process is the only writer of its state dir) and every change is written
// atomically before it is visible to readers or watchers.
import { rm } from "node:fs/promises";
import type { FunctionSpec } from "../../spec/types.ts";
import type { Revision } from "../types.ts";
import { unlinkDurably, writeFileAtomic } from "./atomic-file.ts";
import { serializeFunctionDocument } from "./document.ts";
import { NotFoundError, StoreIoError, ValidationError } from "./errors.ts";
import { type LoadedState, loadState } from "./file-store-load.ts";
import { makeRevisionHash, makeRevisionId } from "./hash.ts";
import { type StoreLayout, makeStoreLayout, validateFunctionName } from "./layout.ts";
import { makeKeyedMutex } from "./lock.ts";
import { commitRevisionDir, stageRevisionFiles } from "./revision-files.ts";
import { checkTrafficRevisions, makeDeployTraffic, parseTraffic, pickRollbackTarget, sameTraffic } from "./traffic.ts";
import type { FunctionRecord, FunctionStore, PutRevisionOptions, RevisionFiles, StoreEvent, StoreProblem, TrafficTarget } from "./types.ts";

/** Options of openFileStore. */
export interface FileStoreOptions {
  /** The platform's state directory (`--state-dir`). */
  stateDir: string;
  /** Clock for createdAtMs/updatedAtMs; default Date.now. */
  now?: () => number;
  /** Called when a watcher throws; default console.error. Watchers never break a write. */
  onListenerError?: (error: unknown) => void;
}

/** Opens (creating if needed) the store under `stateDir`: loads every document and cleans leftovers of interrupted writes. */
export async function openFileStore(options: FileStoreOptions): Promise<FunctionStore> {
  const layout = makeStoreLayout(options.stateDir);
  const loaded = await loadState(layout);
  return makeFileStore(layout, loaded, options);
}

interface Context {
  layout: StoreLayout;
  state: LoadedState;
  now: () => number;
  listeners: Set<(event: StoreEvent) => void>;
  onListenerError: (error: unknown) => void;
}

function makeFileStore(layout: StoreLayout, state: LoadedState, options: FileStoreOptions): FunctionStore {
  const ctx: Context = {
    layout,
    state,
    now: options.now ?? Date.now,
    listeners: new Set(),
    onListenerError: options.onListenerError ?? ((error) => console.error("skiff: store watcher failed:", error)),
  };
  const mutex = makeKeyedMutex();
  let closed = false;
  // Every mutation of one function runs under its lock: read, decide, write, publish.
  const locked = async <T>(name: string, task: () => Promise<T>): Promise<T> => {
    if (closed) throw new StoreIoError("the function store is closed");
    validateFunctionName(name);
    return mutex.run(name, task);
  };
  return {
    putRevision: (name, files, spec, options) => locked(name, () => putRevision(ctx, name, files, spec, options)),
    getFunction: async (name) => {
      validateFunctionName(name);
      return clone(current(ctx, name));
    },
    listFunctions: async () => [...state.records.values()].sort((a, b) => (a.name < b.name ? -1 : 1)).map(clone),
    setTraffic: (name, traffic) => locked(name, () => setTraffic(ctx, name, traffic)),
    deployRevision: (name, revision, traffic) => locked(name, () => deployRevision(ctx, name, revision, traffic)),
    rollback: (name, to) => locked(name, () => rollback(ctx, name, to)),
    deleteFunction: (name) => locked(name, () => deleteFunction(ctx, name)),
    watch(listener) {
      ctx.listeners.add(listener);
      return () => ctx.listeners.delete(listener);
    },
    problems: () => [...state.problems, ...[...state.corrupt].map(([name, error]): StoreProblem => ({ name, file: error.file, message: error.message }))],
    async close() {
      closed = true;
      await mutex.idle();
      ctx.listeners.clear();
    },
  };
}

/** The cached record, undefined if absent; a corrupt function throws its CorruptStateError. */
function current(ctx: Context, name: string): FunctionRecord | undefined {
  const corrupt = ctx.state.corrupt.get(name);
  if (corrupt) throw corrupt;
  return ctx.state.records.get(name);
}

function existing(ctx: Context, name: string): FunctionRecord {
  const record = current(ctx, name);
  if (!record) throw new NotFoundError(`function "${name}" not found`);
  return record;
}

/** Writes the record durably, then caches and publishes it (never the other way round). */
async function commit(ctx: Context, record: FunctionRecord): Promise<FunctionRecord> {
  const next: FunctionRecord = { ...record, updatedAtMs: ctx.now(), generation: record.generation + 1 };
  try {
    await writeFileAtomic(ctx.layout.documentPath(next.name), serializeFunctionDocument(next));
  } catch (error) {
    throw new StoreIoError(`failed to write the state of function "${next.name}"`, { cause: error });
  }
  ctx.state.records.set(next.name, next);
  publish(ctx, { type: "put", name: next.name, record: clone(next) });
  return clone(next);
}

function publish(ctx: Context, event: StoreEvent): void {
  for (const listener of ctx.listeners) {
    try {
      listener(event);
    } catch (error) {
      ctx.onListenerError(error);
    }
  }
}

async function putRevision(ctx: Context, name: string, files: RevisionFiles, spec: FunctionSpec, options: PutRevisionOptions = {}): Promise<Revision> {
  const isolation = options.isolation ?? "process";
  if (isolation !== "process" && isolation !== "container") throw new ValidationError(`unknown isolation ${JSON.stringify(isolation)}: expected "process" or "container"`);
  if (spec?.name !== name) {
    throw new ValidationError(`spec names function ${JSON.stringify(spec?.name)}, but the revision is for "${name}"`);
  }
  const record = current(ctx, name);
  const staging = ctx.layout.makeStagingDir(name);
  let id: string;
  let contentHash: string;
  try {
    contentHash = makeRevisionHash(await stageRevisionFiles(staging, files), spec, isolation);
    id = makeRevisionId(name, contentHash);
    await commitRevisionDir(staging, ctx.layout.bundleDir(name, id));
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    if (error instanceof ValidationError || error instanceof StoreIoError) throw error;
    throw new StoreIoError(`failed to store the files of a new revision of "${name}"`, { cause: error });
  }
  const known = record?.revisions.find((revision) => revision.id === id);
  if (known) return clone(known);
  const now = ctx.now();
  const revision: Revision = {
    id,
    fn: name,
    spec: clone(spec),
    bundleDir: ctx.layout.bundleDir(name, id),
    contentHash,
    createdAtMs: now,
    ...(isolation !== "process" && { isolation }),
  };
  const base: FunctionRecord = record ?? { name, revisions: [], traffic: [], createdAtMs: now, updatedAtMs: now, generation: 0 };
  await commit(ctx, { ...base, revisions: [...base.revisions, revision] });
  return clone(revision);
}

async function deployRevision(ctx: Context, name: string, revision: string, traffic?: TrafficTarget[]): Promise<FunctionRecord> {
  const record = existing(ctx, name);
  if (!record.revisions.some((r) => r.id === revision)) {
    throw new NotFoundError(`function "${name}" has no revision ${JSON.stringify(revision)}`);
  }
  const next = makeDeployTraffic(revision, traffic);
  checkTrafficRevisions(record, next);
  if (record.latestRevision === revision && sameTraffic(record.traffic, next)) return clone(record);
  return commit(ctx, { ...record, latestRevision: revision, traffic: next });
}

async function setTraffic(ctx: Context, name: string, traffic: TrafficTarget[]): Promise<FunctionRecord> {
  const next = parseTraffic(traffic);
  const record = existing(ctx, name);
  checkTrafficRevisions(record, next);
  if (sameTraffic(record.traffic, next)) return clone(record);
  return commit(ctx, { ...record, traffic: next });
}

async function rollback(ctx: Context, name: string, to?: string): Promise<FunctionRecord> {
  const record = existing(ctx, name);
  const next = [{ revision: pickRollbackTarget(record, to), percent: 100 }];
  if (sameTraffic(record.traffic, next)) return clone(record);
  return commit(ctx, { ...record, traffic: next });
}

async function deleteFunction(ctx: Context, name: string): Promise<boolean> {
  // Deleting is also how an operator gets rid of a corrupt document, so skip current().
  const wasCorrupt = ctx.state.corrupt.has(name);
  if (!wasCorrupt && !ctx.state.records.has(name)) return false;
  try {
    // The document goes first: once it is gone the function is gone, and files left by a
    // crash right after are removed at the next load.
    await unlinkDurably(ctx.layout.documentPath(name));
    await rm(ctx.layout.functionRevisionsDir(name), { recursive: true, force: true });
  } catch (error) {
    throw new StoreIoError(`failed to delete function "${name}"`, { cause: error });
  }
  ctx.state.records.delete(name);
  ctx.state.corrupt.delete(name);
  publish(ctx, { type: "deleted", name });
  return true;
}

function clone<T>(value: T): T {
  return value === undefined ? value : structuredClone(value);
}
