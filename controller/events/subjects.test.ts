import { describe, expect, it } from "vitest";
import { generalizeSubjects, isValidSubject, mergeSubjects, subjectCovers, subjectsOverlap } from "./subjects.ts";

describe("subject algebra", () => {
  it.each([
    ["a.b", true], ["a.*", true], ["a.>", true], [">", true], ["*.b.>", true],
    ["", false], ["a..b", false], ["a.>.b", false], ["a.b*", false], ["a b", false], [".a", false], ["a.", false],
  ])("isValidSubject(%j) = %s", (subject, valid) => expect(isValidSubject(subject)).toBe(valid));

  it.each([
    ["a.b", "a.b", true], ["a.*", "a.b", true], ["a.>", "a.b.c", true], ["a.>", "a.*", true], ["a.>", "a.>", true],
    ["a.>", "a", false], ["a.*", "a.b.c", false], ["a.b", "a.*", false], ["a.*", "a.>", false], [">", "x.y", true],
    ["*.b", "a.b", true], ["a.*.c", "a.b.*", false],
  ])("subjectCovers(%j, %j) = %s", (outer, inner, covers) => expect(subjectCovers(outer, inner)).toBe(covers));

  it.each([
    ["a.*.c", "a.b.*", true], ["a.b", "a.c", false], ["a.>", "a", false], ["a.>", "a.b.c", true], ["a.*", "a.b.c", false],
    ["*.>", "skiff.dlq.x", true], ["skiff.>", "skiff.dlq.>", true], ["a.b.c", "a.b", false], ["*", "a", true],
  ])("subjectsOverlap(%j, %j) = %s", (x, y, overlap) => {
    expect(subjectsOverlap(x, y)).toBe(overlap);
    expect(subjectsOverlap(y, x)).toBe(overlap);
  });

  it.each([
    ["a.*.c", "a.b.*", "a.*.*"], ["a.*.c", "a.b.>", "a.*.>"], ["x.y", "x.y", "x.y"], ["a.b.c", "a.>", "a.>"],
  ])("generalizeSubjects(%j, %j) = %j", (x, y, cover) => {
    expect(generalizeSubjects(x, y)).toBe(cover);
    expect(subjectCovers(cover, x) && subjectCovers(cover, y)).toBe(true);
  });

  it.each<[string[], string[], string[]?]>([
    [["a.b", "a.b"], ["a.b"]],
    [["a.b", "a.*", "c"], ["a.*", "c"]],
    [["a.b.c", "a.>", "a.*"], ["a.>"]],
    [["a.*.c", "a.b.*", "z"], ["a.*.*", "z"]],
    [["a.*.c", "a.b.*", "a.>"], ["a.>"]],
    [["orders.created", "orders.paid", "ocr.detected"], ["ocr.detected", "orders.created", "orders.paid"]],
    [[], []],
  ])("mergeSubjects(%j) = %j", (input, subjects) => {
    const merged = mergeSubjects(input);
    expect(merged).toEqual({ subjects, conflicts: [] });
    for (const s of input) expect(merged.subjects.some((m) => subjectCovers(m, s))).toBe(true);
    for (const [i, a] of merged.subjects.entries()) for (const b of merged.subjects.slice(i + 1)) expect(subjectsOverlap(a, b)).toBe(false);
  });

  it("refuses a generalization that would reach into a reserved subject", () => {
    // *.a.b and q.*.b overlap (q.a.b); their cover *.*.b would also match skiff.dlq.b.
    expect(mergeSubjects(["*.a.b", "q.*.b"], ["skiff.dlq.>"])).toEqual({ subjects: ["*.a.b"], conflicts: ["q.*.b"] });
  });
});
