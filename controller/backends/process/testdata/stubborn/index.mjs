// A "bundle" that ignores SIGTERM, so only the backend's SIGKILL after the grace ends it.
// It reports its port in the runtime logger's format, as a real replica does.
import { createServer } from "node:http";

process.on("SIGTERM", () => console.log("stubborn: ignoring SIGTERM"));
const server = createServer((_req, res) => res.end("ok"));
server.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? "127.0.0.1", () => {
  const address = server.address();
  console.log(`${new Date().toISOString()} INFO  listening fn=stubborn port=${address.port}`);
});
