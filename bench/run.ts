// `npm run bench -- <suite>`: runs one suite and prints its figures; the last line is one
// JSON object {"suite", "ratio", ...} (DESIGN.md's benchmark contract).
const SUITES: Record<string, () => Promise<{ run(): Promise<Record<string, unknown>> }>> = {
  runtime: () => import("./suites/runtime.ts"),
  coldstart: () => import("./suites/coldstart.ts"),
  events: () => import("./suites/events.ts"),
  batching: () => import("./suites/batching.ts"),
  build: () => import("./suites/build.ts"),
};

const name = process.argv[2];
if (!name || !SUITES[name]) {
  process.stderr.write(`usage: npm run bench -- <suite>\nsuites: ${Object.keys(SUITES).join(", ")}\n`);
  process.exit(2);
}
const suite = await SUITES[name]!();
const result = await suite.run();
process.stdout.write(`${JSON.stringify({ suite: name, ...result })}\n`);
process.exit(0);
