import { describe, expect, it } from "vitest";
import { parseImageRun } from "./image-run.ts";
import { makeRuntimeConfig, type RuntimeConfigInput } from "./runtime-config.ts";

describe("parseImageRun", () => {
  it("joins Entrypoint and Cmd, takes WorkingDir, the numeric user and the image's PATH", () => {
    const run = parseImageRun({ Entrypoint: ["node", "/app/index.mjs"], Cmd: ["--x"], User: "65532:65532", WorkingDir: "/app", Env: ["A=1", "PATH=/usr/bin:/bin"] }, "img");
    expect(run).toEqual({ args: ["node", "/app/index.mjs", "--x"], cwd: "/app", uid: 65532, gid: 65532, path: "/usr/bin:/bin" });
  });

  it.each([
    { name: "a uid alone keeps it as gid", config: { Cmd: ["x"], User: "1000" }, want: { uid: 1000, gid: 1000, cwd: "/" } },
  ])("$name", ({ config, want }) => {
    expect(parseImageRun(config, "img")).toMatchObject(want);
  });

  it.each([
    { name: "nothing to run", config: { User: "1" }, error: /no Entrypoint or Cmd/ },
    { name: "root", config: { Cmd: ["x"], User: "0:0" }, error: /runs as root/ },
    { name: "root group", config: { Cmd: ["x"], User: "1000:0" }, error: /runs as root/ },
    { name: "a user name", config: { Cmd: ["x"], User: "nonroot" }, error: /numeric uid\[:gid\]/ },
    { name: "no user", config: { Cmd: ["x"] }, error: /numeric uid/ },
  ])("refuses $name", ({ config, error }) => {
    expect(() => parseImageRun(config, "img")).toThrow(error);
  });
});

describe("makeRuntimeConfig", () => {
  const input: RuntimeConfigInput = {
    rootfs: "/cache/rootfs/abc",
    args: ["node", "/app/index.mjs"],
    cwd: "/app",
    env: { PATH: "/usr/bin", PORT: "0" },
    uid: 65532,
    gid: 65532,
    hostname: "hello",
    memoryBytes: 512 * 1024 * 1024,
    swapLimit: true,
    cgroupsPath: "skiff/hello-r1",
    hostFiles: ["/etc/resolv.conf"],
  };
  type Config = {
    process: { terminal: boolean; user: { uid: number }; env: string[]; noNewPrivileges: boolean; capabilities: Record<string, string[]> };
    root: { readonly: boolean; path: string };
    mounts: { destination: string; type: string; options?: string[] }[];
    linux: { namespaces: { type: string }[]; resources: { memory?: { limit: number; swap?: number } } };
  };
  const config = (over: Partial<RuntimeConfigInput> = {}) => makeRuntimeConfig({ ...input, ...over }) as unknown as Config;

  it("shares the root read-only, runs unprivileged without a terminal, on the host network", () => {
    const c = config();
    expect(c.root).toEqual({ path: "/cache/rootfs/abc", readonly: true });
    expect(c.process).toMatchObject({ terminal: false, user: { uid: 65532 }, env: ["PATH=/usr/bin", "PORT=0"], noNewPrivileges: true });
    expect(Object.values(c.process.capabilities).flat()).toEqual([]);
    expect(c.linux.namespaces.map((n) => n.type)).toEqual(["pid", "ipc", "uts", "mount"]);
  });

  it("gives each replica its own /tmp and the host's resolv.conf read-only", () => {
    const mounts = config().mounts;
    expect(mounts.find((m) => m.destination === "/tmp")).toMatchObject({ type: "tmpfs", options: expect.arrayContaining([`size=${512 * 1024 * 1024}`]) });
    expect(mounts.find((m) => m.destination === "/etc/resolv.conf")).toMatchObject({ type: "bind", options: expect.arrayContaining(["ro"]) });
  });

  it.each([
    { name: "memory and swap", over: {}, want: { limit: 536870912, swap: 536870912 } },
    { name: "memory only without swap accounting", over: { swapLimit: false }, want: { limit: 536870912 } },
    { name: "no limit without a memory controller", over: { memoryBytes: undefined }, want: undefined },
  ])("limits $name", ({ over, want }) => {
    expect(config(over).linux.resources.memory).toEqual(want);
  });
});
