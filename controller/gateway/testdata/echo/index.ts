import { defineFunction } from "skiff/runtime";

// Gateway test subject: echoes what arrived, streams slowly, sleeps, and reports its peak
// concurrency so tests can check the gateway's per-replica limit from the replica's side.
let running = 0;
let peak = 0;
let aborted = 0;

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      aborted++;
      clearTimeout(timer);
      resolve();
    });
  });

export default defineFunction({
  async http(req, ctx) {
    const url = new URL(req.url);
    const ms = Number(url.searchParams.get("ms") ?? 0);
    switch (url.pathname) {
      case "/slow": {
        running++;
        peak = Math.max(peak, running);
        try {
          await sleep(ms, ctx.signal);
        } finally {
          running--;
        }
        return { slept: ms, pid: process.pid };
      }
      case "/stats":
        return { peak, running, aborted, pid: process.pid };
      case "/stream": {
        const encoder = new TextEncoder();
        const body = new ReadableStream<Uint8Array>({
          async start(controller) {
            controller.enqueue(encoder.encode("first\n"));
            await sleep(ms);
            controller.enqueue(encoder.encode("last\n"));
            controller.close();
          },
        });
        return new Response(body, { headers: { "content-type": "text/plain" } });
      }
      default: {
        const body = await req.text();
        const headers = Object.fromEntries(req.headers);
        return Response.json(
          { method: req.method, path: url.pathname, query: url.search, headers, body, pid: process.pid },
          { status: Number(url.searchParams.get("status") ?? 200), headers: { "x-echo": "yes" } },
        );
      }
    }
  },
});
