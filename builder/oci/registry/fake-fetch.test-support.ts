// A scripted fetch for client and auth unit tests: answers by handler, records every request.

/** One request the fake saw. */
export interface FakeRequest {
  method: string;
  url: URL;
  headers: Headers;
  /** The body as text, and as bytes (binary uploads). */
  body: string;
  bytes: Buffer;
}

/** A fetch that runs `handler` and records requests. */
export function fakeFetch(handler: (req: FakeRequest) => Response | Promise<Response>): { fetch: typeof fetch; requests: FakeRequest[] } {
  const requests: FakeRequest[] = [];
  const fetchImpl = (async (input: string | URL | Request, init?: RequestInit) => {
    const bytes = init?.body === undefined || init.body === null ? Buffer.alloc(0) : Buffer.from(await new Response(init.body).arrayBuffer());
    const req: FakeRequest = { method: init?.method ?? "GET", url: new URL(String(input)), headers: new Headers(init?.headers), body: bytes.toString("utf8"), bytes };
    requests.push(req);
    return handler(req);
  }) as typeof fetch;
  return { fetch: fetchImpl, requests };
}

/** A JSON response. */
export function json(status: number, value: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(value), { status, headers: { "content-type": "application/json", ...headers } });
}

/** A registry 401 with a challenge. */
export function challenge(header: string): Response {
  return json(401, { errors: [{ code: "UNAUTHORIZED", message: "authentication required" }] }, { "www-authenticate": header });
}
