// Public API of the platform's NATS side: its own nats-server (found, started, supervised,
// never left behind) and connections to NATS.
export { connectNats, type ConnectNatsOptions } from "./connect.ts";
export { NatsConnectError, NatsServerNotFoundError, NatsServerStartError } from "./errors.ts";
export { findNatsServer, NATS_INSTALL_HINT, requireNatsServer } from "./find-binary.ts";
export { makeNatsUrl } from "./launch.ts";
export { killLeftoverServer, pidFilePath } from "./leftover.ts";
export { makeOutputSink, parseNatsLogLine, type NatsLogger, type NatsLogLevel, type NatsLogLine } from "./output.ts";
export {
  natsStoreDir, restartDelayMs, startNatsServer, type NatsServerHandle, type NatsServerOptions, type RestartBackoff,
} from "./server.ts";
