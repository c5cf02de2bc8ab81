// A minimal HTTPS GET against the test apiserver, for readiness polling. Node 20's global fetch
// cannot take a custom CA without an undici dispatcher, and node:https can.
import { request } from "node:https";

/** GETs `path` with a bearer token, trusting only `ca`; resolves with the status and body. */
export function kubeGet(baseUrl: string, path: string, options: { ca: string; token: string; timeoutMs?: number }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, baseUrl), {
      method: "GET",
      ca: options.ca,
      headers: { authorization: `Bearer ${options.token}`, accept: "application/json" },
      timeout: options.timeoutMs ?? 2_000,
    });
    req.once("timeout", () => req.destroy(new Error(`GET ${path} timed out`)));
    req.once("error", reject);
    req.once("response", (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.once("end", () => resolve({ status: res.statusCode ?? 0, body }));
      res.once("error", reject);
    });
    req.end();
  });
}
