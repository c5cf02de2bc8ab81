// Child process of crash.test.ts: mutates a file store in a tight loop until it is killed
// with SIGKILL. Prints "op <n>" after each completed operation so the parent can pick
// random kill points. Run: node --import tsx crash-writer.ts <stateDir> <seed>
import { ConflictError } from "../errors.ts";
import { openFileStore } from "../file-store.ts";
import { makeTestSpec } from "../store-contract.ts";
import type { FunctionStore } from "../types.ts";

const [stateDir, seedText] = process.argv.slice(2);
if (!stateDir) throw new Error("usage: crash-writer.ts <stateDir> <seed>");
let seed = Number(seedText ?? 1);
// A tiny deterministic PRNG, so a failing run can be replayed from its seed.
const random = (): number => {
  seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
  return seed / 2 ** 31;
};
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;

async function step(store: FunctionStore, n: number): Promise<void> {
  const name = pick(["alpha", "beta"]);
  const record = await store.getFunction(name);
  const ids = record?.revisions.map((r) => r.id) ?? [];
  const op = ids.length < 2 ? "put" : pick(["put", "put", "deploy", "split", "rollback", "delete"]);
  if (op === "put") {
    // Large-ish files widen the window in which a kill lands mid-write.
    const big = new Uint8Array(64 * 1024 + Math.floor(random() * 256 * 1024)).fill(n % 251);
    const files = new Map([["index.mjs", new TextEncoder().encode(`// ${n}\n`)], [`assets/blob-${n % 3}.bin`, big]]);
    const revision = await store.putRevision(name, files, makeTestSpec(name, { env: { N: String(n) } }));
    await store.deployRevision(name, revision.id);
  } else if (op === "deploy") {
    await store.deployRevision(name, pick(ids));
  } else if (op === "split") {
    const percent = Math.floor(random() * 101);
    await store.setTraffic(name, [{ revision: ids[0]!, percent }, { revision: ids.at(-1)!, percent: 100 - percent }]);
  } else if (op === "rollback") {
    await store.rollback(name).catch((error: unknown) => {
      if (!(error instanceof ConflictError)) throw error;
    });
  } else if (random() < 0.3) {
    await store.deleteFunction(name);
  }
}

const store = await openFileStore({ stateDir });
for (let n = 0; ; n++) {
  await step(store, n);
  process.stdout.write(`op ${n}\n`);
}
