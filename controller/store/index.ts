// Public API of the function store: desired state (functions, revisions, traffic).
// Other folders import only from here; store-contract.ts is for implementations' tests.
export type { FunctionRecord, FunctionStore, PutRevisionOptions, RevisionFiles, StoreEvent, StoreProblem, TrafficTarget } from "./types.ts";
export { openFileStore, type FileStoreOptions } from "./file-store.ts";
export { ConflictError, CorruptStateError, NotFoundError, StoreIoError, ValidationError, type StoreErrorOptions } from "./errors.ts";
export { LATEST_REVISION, checkTrafficRevisions, makeDeployTraffic, parseTraffic, pickRollbackTarget, sameTraffic } from "./traffic.ts";
export { MAX_PATH_BYTES, checkRelativePath, validateRelativePath, validateRevisionPaths } from "./paths.ts";
export { REVISION_HASH_CHARS, canonicalJson, makeRevisionHash, makeRevisionId, sha256Hex } from "./hash.ts";
export { validateFunctionName } from "./layout.ts";
export { listSourceFiles } from "./revision-files.ts";
export { DOCUMENT_KIND, parseFunctionDocument, serializeFunctionDocument } from "./document.ts";
export { writeFileAtomic } from "./atomic-file.ts";
