import { describe, expect, it } from "vitest";
import type { FunctionSpec } from "../../../spec/types.ts";
import type { Revision } from "../../types.ts";
import { FALLBACK_PATH, defaultDrainGraceMs, makeReplicaEnv } from "./env.ts";

const revision = (env: Record<string, string>): Revision => ({
  id: "fn-abc",
  fn: "fn",
  spec: { name: "fn", env, timeoutMs: 30_000, resources: { cpuMillis: 500 } } as FunctionSpec,
  bundleDir: "/nowhere",
  contentHash: "abc",
  createdAtMs: 0,
});

describe("makeReplicaEnv", () => {
  it("holds exactly the declared env and the platform's keys", () => {
    const env = makeReplicaEnv({
      revision: revision({ GREETING: "hi", PORT: "1", NODE_ENV: "development", SKIFF_NATS_URL: "mine" }),
      replicaId: "fn-abc-r1",
      port: 0,
      host: "127.0.0.1",
      drainGraceMs: 31_000,
      platformEnv: { SKIFF_NATS_URL: "nats://127.0.0.1:4222" },
      hostPath: "/usr/bin",
    });
    expect(env).toEqual({
      PATH: "/usr/bin",
      NODE_ENV: "development",
      GREETING: "hi",
      SKIFF_NATS_URL: "nats://127.0.0.1:4222",
      PORT: "0",
      HOST: "127.0.0.1",
      SKIFF_FUNCTION: "fn",
      SKIFF_REVISION: "fn-abc",
      SKIFF_REPLICA: "fn-abc-r1",
      SKIFF_DRAIN_GRACE_MS: "31000",
      SKIFF_CPU_MILLIS: "500",
    });
  });

  it("falls back to a standard PATH and production NODE_ENV", () => {
    const env = makeReplicaEnv({ revision: revision({}), replicaId: "r", port: 8080, host: "127.0.0.1", drainGraceMs: 1 });
    expect(env.PATH).toBe(FALLBACK_PATH);
    expect(env.NODE_ENV).toBe("production");
  });

  it("defaults the drain grace to the timeout plus a second", () => {
    expect(defaultDrainGraceMs(revision({}))).toBe(31_000);
  });
});
