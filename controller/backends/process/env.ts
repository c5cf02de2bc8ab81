// The environment of a replica, built from nothing: the host's variables (cloud credentials,
// tokens, NODE_OPTIONS) must never reach user code, so only declared and platform keys go in.
import type { Revision } from "../../types.ts";

/** PATH used when the host has none (a daemon started with an empty environment). */
export const FALLBACK_PATH = "/usr/local/bin:/usr/bin:/bin";

/** Inputs of makeReplicaEnv. */
export interface ReplicaEnvInput {
  revision: Revision;
  replicaId: string;
  /** "0" asks the runtime to bind an ephemeral port and report it on stdout. */
  port: number;
  host: string;
  drainGraceMs: number;
  platformEnv?: Record<string, string>;
  /** The host's PATH, so a function can still spawn tools; never any other host variable. */
  hostPath?: string;
}

/**
 * Precedence, lowest first: PATH and NODE_ENV defaults (a function may override them), the
 * revision's declared env, `platformEnv` (the platform's contract, e.g. the NATS URL, wins over a
 * user's same-named key), then the reserved per-replica keys nobody may override.
 */
export function makeReplicaEnv(input: ReplicaEnvInput): Record<string, string> {
  const { revision } = input;
  return {
    PATH: input.hostPath || FALLBACK_PATH,
    NODE_ENV: "production",
    ...revision.spec.env,
    ...input.platformEnv,
    PORT: String(input.port),
    HOST: input.host,
    SKIFF_FUNCTION: revision.fn,
    SKIFF_REVISION: revision.id,
    SKIFF_REPLICA: input.replicaId,
    SKIFF_DRAIN_GRACE_MS: String(input.drainGraceMs),
    // The replica's CPU share, so model functions size their thread pools to it.
    SKIFF_CPU_MILLIS: String(revision.spec.resources.cpuMillis),
  };
}

/** Default drain grace: one full request timeout, plus a second for the response to leave. */
export function defaultDrainGraceMs(revision: Revision): number {
  return revision.spec.timeoutMs + 1000;
}
