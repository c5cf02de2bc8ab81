import { describe, expect, it } from "vitest";
import { selectLayoutEntry } from "./layout-reader.ts";

const d = (digest: string, tag?: string) => ({ mediaType: "m", digest, size: 1, ...(tag ? { annotations: { "org.opencontainers.image.ref.name": tag } } : {}) });

describe("selectLayoutEntry", () => {
  it("picks by tag, or the only entry without one", () => {
    expect(selectLayoutEntry([d("a", "v1"), d("b", "v2")], "v2", "/l").digest).toBe("b");
    expect(selectLayoutEntry([d("a")], undefined, "/l").digest).toBe("a");
  });

  it("names the tags it has when it cannot choose", () => {
    expect(() => selectLayoutEntry([d("a", "v1"), d("b", "v2")], undefined, "/l")).toThrow("the image layout /l holds 2 images; name one by tag (v1, v2)");
    expect(() => selectLayoutEntry([d("a", "v1")], "v3", "/l")).toThrow('the image layout /l has no image tagged "v3" (it has v1)');
  });
});
