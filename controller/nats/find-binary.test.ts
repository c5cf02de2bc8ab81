import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { NatsServerNotFoundError } from "./errors.ts";
import { findNatsServer, requireNatsServer } from "./find-binary.ts";

const dir = mkdtempSync(join(tmpdir(), "skiff-find-nats-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function fakeBinary(sub: string, mode = 0o755): string {
  const path = join(dir, sub, "nats-server");
  rmSync(join(dir, sub), { recursive: true, force: true });
  mkdirSync(join(dir, sub), { recursive: true });
  writeFileSync(path, "#!/bin/sh\n");
  chmodSync(path, mode);
  return path;
}

describe("findNatsServer", () => {
  it("takes NATS_SERVER_BIN alone when set, and only if it is an executable file", () => {
    const bin = fakeBinary("env");
    expect(findNatsServer({ NATS_SERVER_BIN: bin, PATH: "" })).toBe(bin);
    expect(findNatsServer({ NATS_SERVER_BIN: join(dir, "missing"), PATH: join(dir, "env") })).toBeUndefined();
    expect(findNatsServer({ NATS_SERVER_BIN: dir, PATH: "" })).toBeUndefined();
  });

  it("searches PATH in order, skipping non-executable files", () => {
    const noexec = fakeBinary("a", 0o644);
    const good = fakeBinary("b");
    expect(noexec).not.toBe(good);
    expect(findNatsServer({ PATH: [join(dir, "a"), join(dir, "b")].join(":") })).toBe(good);
  });
});

describe("requireNatsServer", () => {
  it("says how to install nats-server or pass --nats when NATS_SERVER_BIN points nowhere", () => {
    const missing = join(dir, "no-such-nats-server");
    expect(() => requireNatsServer({ NATS_SERVER_BIN: missing })).toThrow(NatsServerNotFoundError);
    expect(() => requireNatsServer({ NATS_SERVER_BIN: missing })).toThrow(
      `nats-server not found (NATS_SERVER_BIN=${missing} is not an executable file): install it (apt-get install nats-server, or go install github.com/nats-io/nats-server/v2@v2.10.24) or pass --nats URL`,
    );
  });
});
