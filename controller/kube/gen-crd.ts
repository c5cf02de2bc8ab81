// Writes manifests/crd/functions.skiff.dev.yaml from the zod schema. Run after changing
// spec/'s schema or the CRD rules: `node --import tsx controller/kube/gen-crd.ts [--check]`.
// --check exits 1 when the committed file is stale (the unit test checks the same).
import { readFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { makeFunctionCrdYaml } from "./crd.ts";

/** The committed CRD file. */
export const CRD_FILE = fileURLToPath(new URL("../../manifests/crd/functions.skiff.dev.yaml", import.meta.url));

async function main(args: string[]): Promise<number> {
  const text = makeFunctionCrdYaml();
  if (args.includes("--check")) {
    const committed = await readFile(CRD_FILE, "utf8").catch(() => "");
    if (committed === text) return 0;
    console.error(`${CRD_FILE} is stale: run node --import tsx controller/kube/gen-crd.ts`);
    return 1;
  }
  await writeFile(CRD_FILE, text);
  console.log(`wrote ${CRD_FILE}`);
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = await main(process.argv.slice(2));
}
