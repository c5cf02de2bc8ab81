// Bearer-token authentication of the control API. The token guards deploys (arbitrary
// code execution on this machine), so it is compared in constant time.
import { createHash, timingSafeEqual } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import { UnauthorizedError } from "./errors.ts";

/** Whether `given` equals `expected`, in time independent of where they differ (and of their lengths). */
export function tokensMatch(given: string, expected: string): boolean {
  // Hashing first gives equal-length inputs, as timingSafeEqual requires, without leaking the length.
  const a = createHash("sha256").update(given).digest();
  const b = createHash("sha256").update(expected).digest();
  return timingSafeEqual(a, b) && given.length === expected.length;
}

/** The token in an `Authorization: Bearer <token>` header, or undefined. */
export function parseBearer(header: string | undefined): string | undefined {
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header ?? "");
  return match?.[1];
}

/** Middleware rejecting requests without the right bearer token (UnauthorizedError, answered 401 by the error mapper). */
export function makeBearerAuth(token: string, tokenFile?: string): MiddlewareHandler {
  // An empty token would let `Authorization: Bearer ` through in spirit; refuse to start instead.
  if (token.trim() === "") throw new Error("the control API needs a non-empty token");
  const message = `missing or invalid bearer token (see ${tokenFile ?? "<state dir>/token"})`;
  return async (c, next) => {
    const given = parseBearer(c.req.header("authorization"));
    if (given === undefined || !tokensMatch(given, token)) throw new UnauthorizedError(message);
    await next();
  };
}
