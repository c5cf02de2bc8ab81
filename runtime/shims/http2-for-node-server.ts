// Stand-in for `node:http2` inside @hono/node-server's bundled copy only (the builder swaps it
// in). Replicas serve HTTP/1.1, so node-server's `instanceof Http2ServerRequest` checks are
// always false; importing the real module costs ~10ms of every cold start.

/** Never instantiated: nothing in a replica is an HTTP/2 request. */
export class Http2ServerRequest {}

/** The one constant node-server reads, on an HTTP/2 path a replica never takes. */
export const constants = { NGHTTP2_NO_ERROR: 0 };
