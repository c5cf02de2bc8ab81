import { defineConfig } from "vitest/config";

// Two projects: fast pure unit tests beside the code, and integration suites under
// test/ that start real processes and servers (longer timeouts, fewer in parallel).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["{runtime,spec,builder,controller,cli}/**/*.test.ts"],
          exclude: ["**/node_modules/**", "**/.skiff/**"],
        },
      },
      {
        test: {
          name: "integration",
          include: ["test/**/*.test.ts"],
          exclude: ["**/node_modules/**", "**/.skiff/**"],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          maxWorkers: 2,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
