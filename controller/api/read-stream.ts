// TypeScript's DOM typings lack ReadableStream's async iterator (Node has it), so streams
// are read through this one helper instead of `for await` on the stream.

/** Yields a stream's chunks; stopping early (break, throw) cancels the stream. */
export async function* readChunks(stream: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  let finished = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        finished = true;
        return;
      }
      yield value;
    }
  } finally {
    if (!finished) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}
