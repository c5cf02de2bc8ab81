// GET /v1/functions/:name/logs: text lines streamed as the platform yields them. With
// follow, the response stays open until the client goes away; the AbortSignal handed to
// the platform fires then, so its iterable (and whatever it watches) ends too.
import type { Context } from "hono";
import { BadRequestError } from "./errors.ts";
import { formatLogLine } from "../log-format.ts";
import type { PlatformOps } from "./types.ts";

/** Largest `tail` accepted. */
export const MAX_TAIL = 100_000;

/** Answers a logs request for function `name` (already validated). */
export async function streamLogs(c: Context, ops: PlatformOps, name: string, onError: (error: unknown) => void): Promise<Response> {
  const follow = parseFollow(c.req.query("follow"));
  const tail = parseTail(c.req.query("tail"));
  const abort = new AbortController();
  const requestSignal = c.req.raw.signal;
  requestSignal.addEventListener("abort", () => abort.abort(), { once: true });
  // Awaited before answering, so an unknown function is a 404 rather than an empty 200.
  const lines = await ops.logs(name, { follow, signal: abort.signal, ...(tail === undefined ? {} : { tail }) });
  const iterator = lines[Symbol.asyncIterator]();
  const encoder = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await iterator.next();
        if (next.done) controller.close();
        else controller.enqueue(encoder.encode(formatLogLine(next.value)));
      } catch (error) {
        // Headers are sent already; ending the stream abruptly is all that is left to say.
        if (!abort.signal.aborted) onError(error);
        controller.error(error);
      }
    },
    async cancel() {
      abort.abort();
      await iterator.return?.();
    },
  });
  return new Response(body, {
    headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store", "x-content-type-options": "nosniff" },
  });
}

function parseFollow(value: string | undefined): boolean {
  if (value === undefined || value === "" || value === "0" || value === "false") return false;
  if (value === "1" || value === "true") return true;
  throw new BadRequestError(`follow must be 1 or 0, got ${JSON.stringify(value)}`);
}

function parseTail(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^[0-9]+$/.test(value) || n > MAX_TAIL) throw new BadRequestError(`tail must be a whole number from 0 to ${MAX_TAIL}, got ${JSON.stringify(value)}`);
  return n;
}
