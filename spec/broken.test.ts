import { readFileSync, readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { SpecError, parseFunctionSpec } from "./index.ts";

// Each fixture in testdata/broken/ is a function.yaml with one kind of mistake (or several);
// expected.json holds the exact message, one array entry per line, so a wording or
// position change shows up as a reviewable diff.

const dir = new URL("./testdata/broken/", import.meta.url);
const expected = JSON.parse(readFileSync(new URL("expected.json", dir), "utf8")) as Record<string, string[]>;
const fixtures = readdirSync(dir).filter((file) => file.endsWith(".yaml")).sort();

function specErrorOf(file: string): SpecError {
  const text = readFileSync(new URL(file, dir), "utf8");
  try {
    parseFunctionSpec(text, { file });
  } catch (error) {
    if (error instanceof SpecError) return error;
    throw error;
  }
  throw new Error(`${file} parsed without an error`);
}

describe("broken function.yaml fixtures", () => {
  it("has an expected message for every fixture and a fixture for every message", () => {
    expect(Object.keys(expected).sort()).toEqual(fixtures);
    expect(fixtures.length).toBeGreaterThanOrEqual(25);
  });

  it.each(fixtures)("%s gives its exact message", (file) => {
    const error = specErrorOf(file);
    const lines = expected[file] ?? [];
    expect(error.message).toBe(lines.join("\n"));
    expect(error.issues).toHaveLength(lines.length);
  });

  it("reports every issue of a file at once, sorted by line (not by schema order)", () => {
    const error = specErrorOf("several-errors.yaml");
    expect(error.issues.map((issue) => issue.path)).toEqual([
      "batch.maxSize", "http", "scale.min", "scale.maxx", "timeout", "name",
    ]);
    const lines = error.issues.map((issue) => issue.line ?? 0);
    expect(lines).toEqual([...lines].sort((a, b) => a - b));
  });

  it("gives each issue its path, line and column as data too", () => {
    expect(specErrorOf("scale-max-not-integer.yaml").issues).toEqual([
      { path: "scale.max", message: 'expected an integer >= 1, got "ten"', line: 5, column: 8 },
    ]);
  });
});
