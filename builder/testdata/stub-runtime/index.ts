// A stand-in for skiff/runtime, used to test the builder's runtime override and subpaths.
/** Returns the definition unchanged. */
export function defineFunction<T>(definition: T): T {
  return definition;
}

/** Does nothing: the stub's bundles are inspected, never run. */
export function startReplica(_fn: unknown, _options: { spec: unknown; baseDir: string }): void {}
