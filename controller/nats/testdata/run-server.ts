// A stand-in platform for the watchdog test: starts the state dir's nats-server, prints
// {url, pid} and idles until killed (the test SIGKILLs it, as a crash would).
import { startNatsServer } from "../index.ts";

const server = await startNatsServer({ stateDir: process.argv[2]! });
process.stdout.write(`${JSON.stringify({ url: server.url, pid: server.pid })}\n`);
setInterval(() => undefined, 1 << 30);
