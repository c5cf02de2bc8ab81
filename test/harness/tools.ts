// External command-line tools a suite needs (skopeo, umoci, ...). Missing tool: the suite skips
// with an install hint, or fails under CI=true, where every suite must run.
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import { describe, it } from "vitest";

const isCI = (): boolean => process.env.CI === "true" || process.env.CI === "1";

/** How to get each tool (CI installs them in .ci/run via .ci/install-system-deps). */
const INSTALL_HINTS: Record<string, string> = {
  skopeo: "apt-get install skopeo",
  umoci: "apt-get install umoci",
  "docker-registry": "apt-get install docker-registry (Debian's distribution v2 registry)",
  htpasswd: "apt-get install apache2-utils",
  openssl: "apt-get install openssl",
};

/** The absolute path of an executable on PATH (or /usr/sbin, /usr/bin), else undefined. */
export function findTool(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? "").split(delimiter), "/usr/sbin", "/usr/bin"].filter(Boolean);
  for (const dir of dirs) {
    const path = join(dir, name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not here; try the next directory
    }
  }
  return undefined;
}

/** Which of `tools` are missing, as one line saying how to install them; undefined when all are there. */
export function missingTools(tools: readonly string[]): string | undefined {
  const missing = tools.filter((t) => findTool(t) === undefined);
  if (missing.length === 0) return undefined;
  const hints = missing.map((t) => INSTALL_HINTS[t] ?? `install ${t}`);
  return `${missing.join(", ")} not found on PATH: ${hints.join("; ")} (CI: .ci/run passes them to .ci/install-system-deps)`;
}

/** describe() that needs command-line tools (and root, for runc): skipped with a console message when missing, failed under CI=true. */
export function describeWithTools(name: string, tools: readonly string[], fn: () => void, options: { needsRoot?: boolean } = {}): void {
  const notRoot = options.needsRoot && process.geteuid?.() !== 0 ? `needs root (runc runs containers as root here), but runs as uid ${process.geteuid?.()}` : undefined;
  const reason = missingTools(tools) ?? notRoot;
  if (reason !== undefined && isCI()) {
    describe(name, () => it(`needs ${tools.join(", ")}`, () => { throw new Error(reason); }));
    return;
  }
  if (reason !== undefined) console.warn(`skipping "${name}": ${reason}`);
  describe.skipIf(reason !== undefined)(name, fn);
}
