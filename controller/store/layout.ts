// Where the file store keeps things under the state directory. One place, so the load
// and cleanup code and the operations cannot disagree about paths.
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { NAME_PATTERN } from "../../spec/index.ts";
import { TEMP_INFIX } from "./atomic-file.ts";
import { ValidationError } from "./errors.ts";

/** Paths of the file store under one state directory. */
export interface StoreLayout {
  functionsDir: string;
  revisionsDir: string;
  /** `<stateDir>/functions/<fn>.json` */
  documentPath(name: string): string;
  /** `<stateDir>/revisions/<fn>` */
  functionRevisionsDir(name: string): string;
  /** `<stateDir>/revisions/<fn>/<id>`, a revision's bundleDir. */
  bundleDir(name: string, revisionId: string): string;
  /** A fresh staging directory beside the function's revisions (same filesystem, so rename works). */
  makeStagingDir(name: string): string;
}

/** The layout under `stateDir`. */
export function makeStoreLayout(stateDir: string): StoreLayout {
  const functionsDir = join(stateDir, "functions");
  const revisionsDir = join(stateDir, "revisions");
  return {
    functionsDir,
    revisionsDir,
    documentPath: (name) => join(functionsDir, `${name}.json`),
    functionRevisionsDir: (name) => join(revisionsDir, name),
    bundleDir: (name, revisionId) => join(revisionsDir, name, revisionId),
    makeStagingDir: (name) => join(revisionsDir, name, `.staging${TEMP_INFIX}${process.pid}-${randomBytes(6).toString("hex")}`),
  };
}

/** Throws ValidationError unless `name` is a DNS-1123 label (it becomes a file name, so this also guards paths). */
export function validateFunctionName(name: string): void {
  if (typeof name !== "string" || !NAME_PATTERN.test(name)) {
    throw new ValidationError(
      `invalid function name ${JSON.stringify(name)}: expected a DNS-1123 label (lowercase letters, digits and "-", starting with a letter, ending with a letter or digit, at most 63 characters)`,
    );
  }
}
