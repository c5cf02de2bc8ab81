import { BodyTooLargeError } from "./errors.ts";

/**
 * Enforces maxBodySize without buffering: a declared Content-Length over the limit is
 * refused before reading; otherwise the body is passed through a counting stream that
 * errors as soon as the limit is crossed, so a handler reading it fails with 413.
 */
export function limitRequestBody(request: Request, limitBytes: number): Request {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > limitBytes) throw new BodyTooLargeError(limitBytes);
  if (request.body === null) return request;
  // A declared length within the limit is enforced by Node's parser; only unknown lengths need counting.
  if (declared !== null) return request;
  let seen = 0;
  const counter = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      seen += chunk.byteLength;
      if (seen > limitBytes) controller.error(new BodyTooLargeError(limitBytes));
      else controller.enqueue(chunk);
    },
  });
  return new Request(request, { body: request.body.pipeThrough(counter), duplex: "half" } as RequestInit);
}

/** Reads a whole body as bytes, erroring past the limit (used for CloudEvents, which need it all). */
export async function readBodyLimited(request: Request, limitBytes: number): Promise<Uint8Array> {
  const limited = limitRequestBody(request, limitBytes);
  try {
    return new Uint8Array(await limited.arrayBuffer());
  } catch (error) {
    throw unwrapBodyError(error);
  }
}

/** Fetch wraps stream errors in TypeError; surface our 413 when it is the cause. */
export function unwrapBodyError(error: unknown): unknown {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current; depth++) {
    if (current instanceof BodyTooLargeError) return current;
    current = (current as { cause?: unknown }).cause;
  }
  return error;
}
