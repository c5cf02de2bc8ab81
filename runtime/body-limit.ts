import { BodyTooLargeError } from "./errors.ts";

/**
 * Enforces maxBodySize without buffering: a declared Content-Length over the limit is
 * refused before reading; otherwise the body is passed through a counting stream that
 * errors as soon as the limit is crossed, so a handler reading it fails with 413.
 */
export function limitRequestBody(
  request: Request,
  limitBytes: number,
  header: (name: string) => string | undefined = (name) => request.headers.get(name) ?? undefined,
): Request {
  const declared = header("content-length");
  if (declared !== undefined && Number(declared) > limitBytes) throw new BodyTooLargeError(limitBytes);
  // A declared length within the limit is enforced by Node's parser; only a chunked body needs
  // counting. Checked by header, not request.body: touching the body of node-server's light
  // Request materializes a full one, which costs on every GET.
  if (declared !== undefined || header("transfer-encoding") === undefined || request.body === null) return request;
  const body = request.body;
  let seen = 0;
  const counter = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      seen += chunk.byteLength;
      if (seen > limitBytes) controller.error(new BodyTooLargeError(limitBytes));
      else controller.enqueue(chunk);
    },
  });
  return new Request(request, { body: body.pipeThrough(counter), duplex: "half" } as RequestInit);
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
