// A generic pre-started replica process (the process backend's pool, pool.ts). It pays Node's
// startup and the runtime's load-time costs before any function is known, says "warm" over IPC,
// then waits for exactly one assignment: it takes on the replica's env, cwd and argv and imports
// the bundle, whose generated entry starts the runtime as in a fresh `node index.mjs`. Plain JS:
// replicas run under plain `node`, without tsx.
import { pathToFileURL } from "node:url";

// The parent that spawned us; captured now because an orphan is re-parented (ppid changes).
const parentPid = process.ppid;

/** Loads what every bundle needs at import, so the assigned replica finds it in memory. */
async function warmUp() {
  // Node loads its internal undici lazily on first touch of these globals (~20 ms); the runtime's
  // @hono/node-server touches them at load. Constructing one also compiles the hot paths.
  void new Response(new Headers({ "content-type": "text/plain" }).get("content-type")).status;
  void new Request("http://127.0.0.1/").method;
  await Promise.all([
    import("node:http"),
    import("node:net"),
    import("node:stream"),
    import("node:crypto"),
    import("node:events"),
    import("node:path"),
    import("node:fs"),
    import("node:string_decoder"),
    import("node:async_hooks"),
  ]);
}

/** Exits when the platform is gone: the IPC channel closes with it; the ppid check is a second net. */
function exitWithParent() {
  const onDisconnect = () => process.exit(0);
  process.once("disconnect", onDisconnect);
  const timer = setInterval(() => {
    if (process.ppid !== parentPid) process.exit(0);
  }, 500);
  timer.unref();
  return () => {
    process.off("disconnect", onDisconnect);
    clearInterval(timer);
  };
}

/** Becomes the assigned replica: exactly its env (nothing of ours), its cwd, argv and title. */
function become(assignment) {
  for (const key of Object.keys(process.env)) delete process.env[key];
  Object.assign(process.env, assignment.env);
  process.chdir(assignment.cwd);
  // Code that checks "am I the main module" through argv[1] sees the bundle, as in a fresh replica.
  process.argv[1] = assignment.bundlePath;
  process.title = assignment.title;
}

/**
 * Leaves no trace of the IPC channel: an open one would keep a finished replica alive, and user
 * code that does `if (process.send) process.send(...)` (as for PM2) must see what a fresh replica
 * sees, not a closed channel whose send() throws.
 */
function forgetChannel() {
  for (const key of ["send", "disconnect", "connected", "channel"]) delete process[key];
}

async function main() {
  const stopWatching = exitWithParent();
  await warmUp();
  process.title = "skiff-pool-worker";
  process.once("message", (assignment) => {
    stopWatching();
    // The replica starts once the channel is gone (its SKIFF_PARENT_PID check takes over then).
    process.once("disconnect", () => {
      forgetChannel();
      become(assignment);
      // A bundle that fails to load rejects here: unhandled, it prints and exits 1 as `node index.mjs` would.
      void import(pathToFileURL(assignment.bundlePath).href);
    });
    // Not synchronously: Node 20 crashes when a channel is closed inside its message dispatch.
    process.nextTick(() => process.disconnect());
  });
  process.send({ type: "warm" });
}

await main();
