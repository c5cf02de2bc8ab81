import { describe, expect, it } from "vitest";
import { type LinkReader, parseLddOutput, resolveAll, resolvePath } from "./host-files.ts";

describe("parseLddOutput", () => {
  it("keeps library paths and the loader, skips the vdso, in order", () => {
    const text = [
      "\tlinux-vdso.so.1 (0x00007ffd0b1f5000)",
      "\tlibdl.so.2 => /lib/x86_64-linux-gnu/libdl.so.2 (0x00007fc936cbf000)",
      "\tlibstdc++.so.6 => /lib/x86_64-linux-gnu/libstdc++.so.6 (0x00007fc936a00000)",
      "\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007fc93673e000)",
      "\t/lib64/ld-linux-x86-64.so.2 (0x00007fc936cd7000)",
      "",
    ].join("\n");
    expect(parseLddOutput(text)).toEqual([
      "/lib/x86_64-linux-gnu/libdl.so.2",
      "/lib/x86_64-linux-gnu/libstdc++.so.6",
      "/lib/x86_64-linux-gnu/libc.so.6",
      "/lib64/ld-linux-x86-64.so.2",
    ]);
  });

  it("finds nothing in a static binary and names missing libraries", () => {
    expect(parseLddOutput("\tstatically linked\n")).toEqual([]);
    expect(() => parseLddOutput("\tlibfoo.so.1 => not found\n\tlibc.so.6 => /lib/libc.so.6 (0x1)\n")).toThrow(/not found on this host: libfoo\.so\.1/);
  });
});

/** A merged-/usr Debian tree: /lib and /lib64 link into /usr, the loader links across, libstdc++ is versioned. */
const debian: LinkReader = {
  readLink: async (path) =>
    ({
      "/lib": "usr/lib",
      "/lib64": "usr/lib64",
      "/usr/lib64/ld-linux-x86-64.so.2": "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
      "/usr/lib/x86_64-linux-gnu/libstdc++.so.6": "libstdc++.so.6.0.30",
      "/loop/a": "b",
      "/loop/b": "a",
    })[path],
};

describe("resolvePath", () => {
  it.each([
    { path: "/lib/x86_64-linux-gnu/libc.so.6", real: "/usr/lib/x86_64-linux-gnu/libc.so.6", links: [["/lib", "usr/lib"]] },
    {
      path: "/lib64/ld-linux-x86-64.so.2",
      real: "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
      links: [["/lib64", "usr/lib64"], ["/usr/lib64/ld-linux-x86-64.so.2", "/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"], ["/lib", "usr/lib"]],
    },
    {
      path: "/lib/x86_64-linux-gnu/libstdc++.so.6",
      real: "/usr/lib/x86_64-linux-gnu/libstdc++.so.6.0.30",
      links: [["/lib", "usr/lib"], ["/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "libstdc++.so.6.0.30"]],
    },
    { path: "/usr/bin/node", real: "/usr/bin/node", links: [] },
  ])("$path -> $real", async ({ path, real, links }) => {
    const resolved = await resolvePath(path, debian);
    expect(resolved.real).toBe(real);
    expect([...resolved.links]).toEqual(links);
  });

  it("stops on a symlink loop", async () => {
    await expect(resolvePath("/loop/a", debian)).rejects.toThrow(/too many symlinks/);
  });

  it("collects each real file once and every link on the way", async () => {
    const { files, links } = await resolveAll(["/lib/x86_64-linux-gnu/libc.so.6", "/lib64/ld-linux-x86-64.so.2", "/usr/lib/x86_64-linux-gnu/libc.so.6"], debian);
    expect(files).toEqual(["/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", "/usr/lib/x86_64-linux-gnu/libc.so.6"]);
    expect([...links.keys()].sort()).toEqual(["/lib", "/lib64", "/usr/lib64/ld-linux-x86-64.so.2"]);
  });
});
