import { defineFunction } from "skiff/runtime";

// A function whose init always fails: the replica exits 1 before it is ever ready.
export default defineFunction({
  async init() {
    throw new Error("model file missing");
  },
  async http() {
    return new Response("unreachable");
  },
});
