#!/usr/bin/env node
// Entry of the `skiff` command: loads the TypeScript CLI through tsx's loader so the
// repository runs without a compile step.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../cli/main.ts");
process.exitCode = await main(process.argv.slice(2));
