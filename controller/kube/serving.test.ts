import { describe, expect, it } from "vitest";
import { validateFunctionSpec } from "../../spec/index.ts";
import { chooseServingRevision, type KnownRevision } from "./serving.ts";

const spec = validateFunctionSpec({ name: "hello" });
const rev = (id: string, ready: number): KnownRevision => ({ id, spec, ready });

describe("chooseServingRevision", () => {
  it("routes to the latest revision once it has a ready replica", () => {
    expect(chooseServingRevision(rev("new", 1), [rev("old", 3)], "old").id).toBe("new");
  });

  it("keeps an older revision that still serves while the latest starts", () => {
    expect(chooseServingRevision(rev("new", 0), [rev("old", 2)], "old").id).toBe("old");
  });

  it("prefers the status' last ready revision among several serving ones", () => {
    expect(chooseServingRevision(rev("c", 0), [rev("a", 1), rev("b", 1)], "b").id).toBe("b");
    expect(chooseServingRevision(rev("c", 0), [rev("a", 1), rev("b", 1)]).id).toBe("a");
  });

  it("does not wake an older revision at zero: requests wait for the latest", () => {
    expect(chooseServingRevision(rev("new", 0), [rev("old", 0)], "old").id).toBe("new");
    expect(chooseServingRevision(rev("new", 0), []).id).toBe("new");
  });
});
