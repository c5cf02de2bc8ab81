import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { BuildError, buildFunction, defaultOutDir } from "./index.ts";
import { stableJson } from "./hash.ts";
import { RUNTIME_ENTRY } from "./paths.ts";
import { makeSpec, makeTempFunction, removeDir, runBundle, waitForOk, writeFiles, type RunningBundle } from "./testdata/fixtures.ts";

const HELLO = {
  "index.ts": [
    'import { defineFunction } from "skiff/runtime";',
    'import { greet } from "./helper.ts";',
    "export default defineFunction({",
    '  async http() { return new Response(greet("world")); },',
    "});",
    "",
  ].join("\n"),
  "helper.ts": "export function greet(name: string): string { return `hello ${name}`; }\n",
};

/** fake-native holds a .node file (never loaded) and requires fake-dep at run time. */
const FAKE_NATIVE = {
  "node_modules/fake-native/package.json": JSON.stringify({ name: "fake-native", version: "1.2.3", main: "index.js", dependencies: { "fake-dep": "^1" } }),
  "node_modules/fake-native/index.js": 'const dep = require("fake-dep");\nmodule.exports = { hello: () => "native+" + dep.name, marker: "FAKE_NATIVE_MARKER" };\n',
  "node_modules/fake-native/build/Release/addon.node": new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 1, 2, 3]),
  "node_modules/fake-dep/package.json": JSON.stringify({ name: "fake-dep", version: "1.0.0", main: "index.js" }),
  "node_modules/fake-dep/index.js": 'module.exports = { name: "fake-dep" };\n',
};

/** Bundled (not native) packages exercising the banner: CommonJS __dirname, an ESM `const __dirname`. */
const BUNDLED_DEPS = {
  "node_modules/cjs-dir/package.json": JSON.stringify({ name: "cjs-dir", version: "1.0.0", main: "index.js" }),
  "node_modules/cjs-dir/index.js": 'module.exports = { dir: __dirname, file: __filename, path: require("node:path").sep };\n',
  "node_modules/esm-dir/package.json": JSON.stringify({ name: "esm-dir", version: "1.0.0", type: "module", main: "index.js" }),
  "node_modules/esm-dir/index.js": [
    'import { fileURLToPath } from "node:url";',
    'import { dirname } from "node:path";',
    "const __filename = fileURLToPath(import.meta.url);",
    "const __dirname = dirname(__filename);",
    "export default __dirname;",
    "",
  ].join("\n"),
};

const dirs: string[] = [];
const running: RunningBundle[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.stop()));
  for (const dir of dirs.splice(0)) removeDir(dir);
});

function tempFunction(files: Record<string, string | Uint8Array>): string {
  const dir = makeTempFunction(files);
  dirs.push(dir);
  return dir;
}

async function start(bundlePath: string): Promise<RunningBundle> {
  const bundle = await runBundle(bundlePath);
  running.push(bundle);
  return bundle;
}

describe("buildFunction", { timeout: 30_000 }, () => {
  it("bundles a function outside the repository against skiff/runtime", async () => {
    const dir = tempFunction(HELLO);
    const result = await buildFunction({ dir, spec: makeSpec() });
    expect(result.rebuilt).toBe(true);
    expect(result.outDir).toBe(defaultOutDir(dir, "hello"));
    expect(result.bundlePath).toBe(join(dir, ".skiff/build/hello/index.mjs"));
    expect(existsSync(result.bundlePath)).toBe(true);
    expect(existsSync(`${result.bundlePath}.map`)).toBe(true);
    expect(readFileSync(result.bundlePath, "utf8")).toContain("//# sourceMappingURL=index.mjs.map");
    const { manifest } = result;
    expect(Object.keys(manifest.inputs)).toEqual(expect.arrayContaining(["index.ts", "helper.ts", RUNTIME_ENTRY]));
    // The entry, plus lazily loaded chunks (the CloudEvents SDK is only reached through import()).
    const files = Object.keys(manifest.files).sort();
    expect(files.filter((f) => !f.startsWith("chunks/"))).toEqual(["index.mjs", "index.mjs.map"]);
    expect(files.some((f) => /^chunks\/.+\.mjs$/.test(f))).toBe(true);
    expect(readFileSync(result.bundlePath, "utf8")).not.toContain("data_base64");
    expect(manifest.external).toEqual([]);
    expect(manifest.spec).toEqual(makeSpec());
    expect(readFileSync(join(result.outDir, "manifest.json"), "utf8")).toBe(`${stableJson(manifest)}\n`);
  });

  it("produces a bundle that serves GET / with node and PORT", async () => {
    const dir = tempFunction(HELLO);
    const { bundlePath } = await buildFunction({ dir, spec: makeSpec() });
    const bundle = await start(bundlePath);
    const response = await waitForOk(`http://127.0.0.1:${bundle.port}/`, bundle);
    expect(await response.text()).toBe("hello world");
  });

  it("keeps native packages external and copies their closure beside the bundle", async () => {
    const dir = tempFunction({
      ...FAKE_NATIVE,
      ...BUNDLED_DEPS,
      "greeting.txt": "hi from an asset",
      "index.ts": [
        'import { defineFunction } from "skiff/runtime";',
        'import { readFileSync } from "node:fs";',
        'import native from "fake-native";',
        'import cjs from "cjs-dir";',
        'import esmDir from "esm-dir";',
        "export default defineFunction({",
        "  async http(_req, ctx) {",
        '    const asset = readFileSync(ctx.assetPath("greeting.txt"), "utf8");',
        "    return Response.json({ native: native.hello(), cjsDir: cjs.dir, cjsFile: cjs.file, esmDir, asset });",
        "  },",
        "});",
        "",
      ].join("\n"),
    });
    const result = await buildFunction({ dir, spec: makeSpec({ assets: ["greeting.txt"] }) });
    const { outDir, manifest } = result;
    expect(manifest.external).toEqual(["fake-dep@1.0.0", "fake-native@1.2.3"]);
    expect(existsSync(join(outDir, "node_modules/fake-native/build/Release/addon.node"))).toBe(true);
    expect(existsSync(join(outDir, "node_modules/fake-dep/index.js"))).toBe(true);
    expect(existsSync(join(outDir, "node_modules/cjs-dir"))).toBe(false);
    const bundleText = readFileSync(result.bundlePath, "utf8");
    expect(bundleText).not.toContain("FAKE_NATIVE_MARKER");
    expect(bundleText).toContain('"fake-native"');
    expect(Object.keys(manifest.inputs)).toEqual(expect.arrayContaining(["node_modules/fake-native/package.json", "node_modules/cjs-dir/index.js"]));

    const bundle = await start(result.bundlePath);
    const body = await (await waitForOk(`http://127.0.0.1:${bundle.port}/`, bundle)).json();
    expect(body).toEqual({
      native: "native+fake-dep",
      cjsDir: outDir,
      cjsFile: result.bundlePath,
      esmDir: outDir,
      asset: "hi from an asset",
    });
  });

  it("copies assets to the same relative paths and names a missing one", async () => {
    const dir = tempFunction({ ...HELLO, "models/m.bin": "model", "models/sub/vocab.txt": "a b c", "config.json": "{}" });
    const { outDir, manifest } = await buildFunction({ dir, spec: makeSpec({ assets: ["models/", "config.json"] }) });
    expect(readFileSync(join(outDir, "models/m.bin"), "utf8")).toBe("model");
    expect(readFileSync(join(outDir, "models/sub/vocab.txt"), "utf8")).toBe("a b c");
    expect(readFileSync(join(outDir, "config.json"), "utf8")).toBe("{}");
    expect(Object.keys(manifest.assets)).toEqual(["config.json", "models/m.bin", "models/sub/vocab.txt"]);
    expect(Object.keys(manifest.files)).toEqual(expect.arrayContaining(["models/m.bin", "models/sub/vocab.txt"]));

    const failure = buildFunction({ dir, spec: makeSpec({ assets: ["models/", "weights/nope.onnx"] }), force: true });
    await expect(failure).rejects.toThrow(BuildError);
    await expect(failure).rejects.toThrow(/asset "weights\/nope\.onnx" not found/);
  });

  it("rebuilds only when sources, assets, spec or outputs change, or when forced", async () => {
    const dir = tempFunction({ ...HELLO, "models/m.bin": "v1" });
    const spec = makeSpec({ assets: ["models"] });
    const outDir = defaultOutDir(dir, "hello");
    expect((await buildFunction({ dir, spec })).rebuilt).toBe(true);
    expect((await buildFunction({ dir, spec })).rebuilt).toBe(false);

    writeFileSync(join(dir, "helper.ts"), "export function greet(name: string): string { return `hi ${name}`; }\n");
    expect((await buildFunction({ dir, spec })).rebuilt).toBe(true);
    expect(readFileSync(join(outDir, "index.mjs"), "utf8")).toContain("hi ");
    expect((await buildFunction({ dir, spec })).rebuilt).toBe(false);

    expect((await buildFunction({ dir, spec: makeSpec({ assets: ["models"], timeoutMs: 5000 }) })).rebuilt).toBe(true);
    expect((await buildFunction({ dir, spec })).rebuilt).toBe(true);
    expect((await buildFunction({ dir, spec, force: true })).rebuilt).toBe(true);

    writeFiles(dir, { "models/new.bin": "added" });
    expect((await buildFunction({ dir, spec })).rebuilt).toBe(true);
    writeFiles(dir, { "models/m.bin": "v2" });
    expect((await buildFunction({ dir, spec })).rebuilt).toBe(true);
    expect(readFileSync(join(outDir, "models/m.bin"), "utf8")).toBe("v2");

    removeDir(join(outDir, "index.mjs.map"));
    expect((await buildFunction({ dir, spec })).rebuilt).toBe(true);
    expect(existsSync(join(outDir, "index.mjs.map"))).toBe(true);
    expect((await buildFunction({ dir, spec })).rebuilt).toBe(false);
  });

  it("reports a syntax error as index.ts:line:col and keeps the previous build", async () => {
    const dir = tempFunction(HELLO);
    const good = await buildFunction({ dir, spec: makeSpec() });
    const before = readFileSync(good.bundlePath, "utf8");
    const manifestBefore = readFileSync(join(good.outDir, "manifest.json"), "utf8");

    writeFileSync(join(dir, "index.ts"), `${HELLO["index.ts"]}const broken: number = ;\n`);
    const error = await buildFunction({ dir, spec: makeSpec() }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BuildError);
    expect((error as BuildError).message).toMatch(/^index\.ts:6:\d+: .+$/);
    expect((error as BuildError).message).not.toContain("\n    at ");
    expect((error as BuildError).diagnostics[0]).toMatchObject({ file: "index.ts", line: 6 });

    expect(readFileSync(good.bundlePath, "utf8")).toBe(before);
    expect(readFileSync(join(good.outDir, "manifest.json"), "utf8")).toBe(manifestBefore);
    expect(readdirSync(dirname(good.outDir))).toEqual(["hello"]);
  });

  it("reports an unresolved import with its position", async () => {
    const dir = tempFunction({ ...HELLO, "index.ts": `import "./helper.ts";\n\nimport { x } from "nope";\n${HELLO["index.ts"]}console.log(x);\n` });
    await expect(buildFunction({ dir, spec: makeSpec() })).rejects.toThrow(/^index\.ts:3:19: Could not resolve "nope"/);
  });

  it("serializes concurrent builds of one function: the second reuses the first", async () => {
    const dir = tempFunction(HELLO);
    const results = await Promise.all([buildFunction({ dir, spec: makeSpec() }), buildFunction({ dir, spec: makeSpec() })]);
    expect(results.map((r) => r.rebuilt).sort()).toEqual([false, true]);
    expect(readdirSync(join(dir, ".skiff/build"))).toEqual(["hello"]);
  });

  it("names a missing entry", async () => {
    const dir = tempFunction(HELLO);
    await expect(buildFunction({ dir, spec: makeSpec({ entry: "main.ts" }) })).rejects.toThrow(/entry "main\.ts" not found/);
  });

  it("resolves skiff/runtime subpaths inside an overridden runtime", async () => {
    const stub = fileURLToPath(new URL("./testdata/stub-runtime/index.ts", import.meta.url));
    const dir = tempFunction({
      "index.ts": 'import { defineFunction } from "skiff/runtime";\nimport { STUB_MARKER } from "skiff/runtime/extra";\nexport default defineFunction({ marker: STUB_MARKER });\n',
    });
    const outDir = join(dir, "out");
    const result = await buildFunction({ dir, spec: makeSpec(), outDir, runtimeEntry: stub });
    expect(result.bundlePath).toBe(join(outDir, "index.mjs"));
    expect(readFileSync(result.bundlePath, "utf8")).toContain("stub-runtime-extra-marker");
    expect(Object.keys(result.manifest.inputs)).toEqual(expect.arrayContaining([stub, join(dirname(stub), "extra.ts")]));
  });
});
