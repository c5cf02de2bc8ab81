// The on-disk JSON document of one function (`<stateDir>/functions/<fn>.json`): pure
// serialization and a strict parse that reports any damage as CorruptStateError.
import type { FunctionSpec } from "../../spec/types.ts";
import type { Revision } from "../types.ts";
import { CorruptStateError } from "./errors.ts";
import { REVISION_HASH_CHARS, makeRevisionId } from "./hash.ts";
import { checkTrafficRevisions, parseTraffic } from "./traffic.ts";
import type { FunctionRecord, TrafficTarget } from "./types.ts";

/** The `kind` of a function document; a future format change bumps the version. */
export const DOCUMENT_KIND = "skiff.function/v1";

/** How a parsed document finds its revisions' files (bundleDir is derived, not stored, so a moved state dir still works). */
export interface DocumentContext {
  file: string;
  name: string;
  bundleDir(name: string, revisionId: string): string;
}

/** The document text of a record: stable key order, 2-space indent, trailing newline. */
export function serializeFunctionDocument(record: FunctionRecord): string {
  const document = {
    kind: DOCUMENT_KIND,
    name: record.name,
    createdAtMs: record.createdAtMs,
    updatedAtMs: record.updatedAtMs,
    generation: record.generation,
    ...(record.latestRevision === undefined ? {} : { latestRevision: record.latestRevision }),
    traffic: record.traffic,
    revisions: record.revisions.map(({ id, contentHash, createdAtMs, spec, isolation }) => ({
      id,
      contentHash,
      createdAtMs,
      ...(isolation !== undefined && isolation !== "process" && { isolation }),
      spec,
    })),
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}

/** Parses and checks a document; throws CorruptStateError naming the file and what is wrong. */
export function parseFunctionDocument(text: string, context: DocumentContext): FunctionRecord {
  const fail = (detail: string, cause?: unknown): never => {
    throw new CorruptStateError(context.file, detail, { cause });
  };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return fail(`not valid JSON (${(error as Error).message})`, error);
  }
  if (!isObject(value) || value.kind !== DOCUMENT_KIND) return fail(`expected a document of kind "${DOCUMENT_KIND}"`);
  if (value.name !== context.name) return fail(`names function ${JSON.stringify(value.name)}, expected "${context.name}"`);
  for (const key of ["createdAtMs", "updatedAtMs", "generation"] as const) {
    if (!isWholeNumber(value[key])) fail(`${key}: expected a whole number`);
  }
  const revisions = parseRevisions(value.revisions, context, fail);
  const record: FunctionRecord = {
    name: context.name,
    revisions,
    traffic: [],
    createdAtMs: value.createdAtMs as number,
    updatedAtMs: value.updatedAtMs as number,
    generation: value.generation as number,
  };
  record.traffic = parseStoredTraffic(value.traffic, record, fail);
  if (value.latestRevision !== undefined) {
    if (!revisions.some((revision) => revision.id === value.latestRevision)) {
      fail(`latestRevision ${JSON.stringify(value.latestRevision)} is not among the revisions`);
    }
    record.latestRevision = value.latestRevision as string;
  }
  return record;
}

type Fail = (detail: string, cause?: unknown) => never;

function parseRevisions(value: unknown, context: DocumentContext, fail: Fail): Revision[] {
  if (!Array.isArray(value)) return fail("revisions: expected a list");
  const seen = new Set<string>();
  return value.map((entry: unknown, i): Revision => {
    const where = `revisions[${i}]`;
    if (!isObject(entry)) return fail(`${where}: expected an object`);
    const { id, contentHash, createdAtMs, spec, isolation } = entry;
    if (typeof contentHash !== "string" || !/^[0-9a-f]{64}$/.test(contentHash)) fail(`${where}.contentHash: expected 64 hex digits`);
    if (id !== makeRevisionId(context.name, contentHash as string)) {
      fail(`${where}.id: expected "${context.name}-" and the first ${REVISION_HASH_CHARS} hex of contentHash`);
    }
    if (seen.has(id as string)) fail(`${where}.id: ${String(id)} is listed twice`);
    seen.add(id as string);
    if (!isWholeNumber(createdAtMs)) fail(`${where}.createdAtMs: expected a whole number`);
    if (!isObject(spec) || spec.name !== context.name) fail(`${where}.spec: expected the spec of "${context.name}"`);
    if (isolation !== undefined && isolation !== "process" && isolation !== "container") fail(`${where}.isolation: expected "process" or "container"`);
    return {
      id: id as string,
      fn: context.name,
      spec: spec as unknown as FunctionSpec,
      bundleDir: context.bundleDir(context.name, id as string),
      contentHash: contentHash as string,
      createdAtMs: createdAtMs as number,
      ...(isolation === "container" && { isolation: "container" as const }),
    };
  });
}

function parseStoredTraffic(value: unknown, record: FunctionRecord, fail: Fail): TrafficTarget[] {
  if (Array.isArray(value) && value.length === 0) return [];
  try {
    const traffic = parseTraffic(value);
    checkTrafficRevisions(record, traffic);
    return traffic;
  } catch (error) {
    return fail((error as Error).message, error);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function isWholeNumber(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 0;
}
