// esbuild plugins: `skiff/runtime` onto this repository's runtime, and native packages kept
// external (their closures recorded so the build can copy them beside the bundle).
import type { Plugin } from "esbuild";
import { isBuiltin } from "node:module";
import { dirname } from "node:path";
import { packageNameOf, type ClosurePackage } from "./native-packages.ts";

const RUNTIME_SPECIFIER = "skiff/runtime";

/** Resolves `skiff/runtime` (and `skiff/runtime/<sub>`) to the given runtime entry and its folder. */
export function makeRuntimePlugin(runtimeEntry: string): Plugin {
  return {
    name: "skiff-runtime",
    setup(build) {
      build.onResolve({ filter: /^skiff\/runtime(\/.*)?$/ }, async (args) => {
        const sub = args.path.slice(RUNTIME_SPECIFIER.length);
        if (sub === "") return { path: runtimeEntry };
        // A subpath resolves like a relative import inside the runtime folder (extension probing included).
        const result = await build.resolve(`.${sub}`, { resolveDir: dirname(runtimeEntry), kind: args.kind, importer: args.importer });
        if (result.errors.length > 0) return { errors: result.errors, warnings: result.warnings };
        return { path: result.path, external: result.external, namespace: result.namespace, sideEffects: result.sideEffects, suffix: result.suffix };
      });
    },
  };
}

/** Matches files of @hono/node-server, whose http2 import the replica never needs. */
const NODE_SERVER_FILE = /[\\/]node_modules[\\/]@hono[\\/]node-server[\\/]/;

/**
 * Gives @hono/node-server a stub of `node:http2` (runtime/shims/http2-for-node-server.ts):
 * replicas speak HTTP/1.1, and loading http2 is a tenth of a cold start. Only that package's
 * imports are redirected; user code importing http2 gets the real module.
 */
export function makeNodeServerHttp2StubPlugin(stubPath: string): Plugin {
  return {
    name: "skiff-node-server-http2-stub",
    setup(build) {
      build.onResolve({ filter: /^(node:)?http2$/ }, (args) =>
        NODE_SERVER_FILE.test(args.importer) ? { path: stubPath } : undefined,
      );
    },
  };
}

/**
 * Marks a bare import external when its package's installed closure holds native code
 * (bundling cannot carry a .node binary), recording the closure by its root directory.
 */
export function makeNativeExternalsPlugin(
  detect: (name: string, fromDir: string) => ClosurePackage[] | undefined,
  found: Map<string, ClosurePackage[]>,
): Plugin {
  return {
    name: "skiff-native-externals",
    setup(build) {
      build.onResolve({ filter: /^[^./]/ }, (args) => {
        if (isBuiltin(args.path) || args.path.startsWith(RUNTIME_SPECIFIER)) return undefined;
        const name = packageNameOf(args.path);
        if (name === undefined || args.resolveDir === "") return undefined;
        const closure = detect(name, args.resolveDir);
        if (closure === undefined) return undefined;
        found.set(closure[0]!.dir, closure);
        return { path: args.path, external: true };
      });
    },
  };
}
