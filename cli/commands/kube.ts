// `skiff kube controller` and `skiff kube gateway`: the platform's two in-cluster processes
// (manifests/controller.yaml and gateway.yaml run them). Both run in the foreground until
// SIGINT or SIGTERM and log JSON lines.
import { createServer, type Server } from "node:http";
import { startKubeController, startKubeGateway } from "../../controller/kube/index.ts";
import { makeLogger } from "../../runtime/index.ts";
import { parsePort, parseVerbArgs } from "../args.ts";
import { UsageError } from "../errors.ts";
import type { Io } from "../io.ts";
import { KUBE_OPTIONS, loadKubeConfig } from "../kube-config.ts";

const USAGE =
  "kube controller [--namespace NS] [--gateway-url URL] [--health-port 8081] | " +
  "kube gateway [--namespace NS] [--host 0.0.0.0] [--port 8080] [--nats URL]   (both: [--kubeconfig F] [--context C])";

export async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseVerbArgs(
    argv,
    { ...KUBE_OPTIONS, namespace: { type: "string" }, "gateway-url": { type: "string" }, "health-port": { type: "string" }, host: { type: "string" }, port: { type: "string" }, nats: { type: "string" } },
    USAGE,
  );
  const role = positionals[0];
  if (positionals.length !== 1 || (role !== "controller" && role !== "gateway")) throw new UsageError("expected `controller` or `gateway`", USAGE);
  const kc = loadKubeConfig(values as { kubeconfig?: string; context?: string });
  const logger = makeLogger({ level: process.env.LOG_LEVEL ?? "info", fields: { role } });
  const stopped = new Promise<void>((resolve) => {
    for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => resolve());
  });
  if (role === "controller") {
    const namespace = (values.namespace as string | undefined) ?? process.env.SKIFF_WATCH_NAMESPACE;
    const gatewayUrl = (values["gateway-url"] as string | undefined) ?? process.env.SKIFF_GATEWAY_URL ?? "http://skiff-gateway.skiff-system.svc";
    let ready = false;
    const health = await serveHealth(parsePort(values["health-port"] as string | undefined, "--health-port", 8081), () => ready);
    const controller = await startKubeController({ kc, ...(namespace && { namespace }), gatewayUrl, logger });
    ready = true;
    io.out(values.json ? JSON.stringify({ event: "controller", namespace: namespace ?? "*" }) : `skiff kube controller: reconciling Functions in ${namespace ?? "all namespaces"}`);
    await stopped;
    await controller.stop();
    health.close();
    return 0;
  }
  const namespace = (values.namespace as string | undefined) ?? process.env.SKIFF_FUNCTIONS_NAMESPACE ?? "default";
  const natsUrl = (values.nats as string | undefined) ?? process.env.SKIFF_NATS_URL;
  const gateway = await startKubeGateway({
    kc,
    namespace,
    host: (values.host as string | undefined) ?? "0.0.0.0",
    port: parsePort((values.port as string | undefined) ?? process.env.PORT, "--port", 8080),
    ...(natsUrl && { natsUrl }),
    logger,
  });
  io.out(values.json ? JSON.stringify({ event: "gateway", url: gateway.url, namespace }) : `skiff kube gateway: ${gateway.url}/fn/<name>/ for namespace ${namespace}`);
  await stopped;
  await gateway.stop();
  return 0;
}

/** /healthz answers while the process runs; /readyz once the informers have synced. */
function serveHealth(port: number, ready: () => boolean): Promise<Server> {
  const server = createServer((req, res) => {
    const ok = req.url === "/healthz" || (req.url === "/readyz" && ready());
    res.writeHead(ok ? 200 : req.url === "/readyz" ? 503 : 404, { "content-type": "text/plain" }).end(ok ? "ok\n" : "not ready\n");
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "0.0.0.0", () => resolve(server));
  });
}
