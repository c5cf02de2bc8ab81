import { SpecError } from "./errors.ts";
import type { SpecIssue } from "./errors.ts";
import { functionSpecSchema } from "./schema.ts";
import type { FunctionSpec } from "./types.ts";
import { parseYamlSource } from "./yaml-source.ts";
import { formatPath, fromZodIssues } from "./zod-issues.ts";

/** Options of parseFunctionSpec and validateFunctionSpec. */
export interface ParseOptions {
  /** Label used in error messages; parseFunctionSpec defaults to "function.yaml". */
  file?: string;
}

/** Parses and validates function.yaml text into a normalized FunctionSpec; throws SpecError listing every issue with line:col. */
export function parseFunctionSpec(text: string, options: ParseOptions = {}): FunctionSpec {
  const file = options.file ?? "function.yaml";
  const source = parseYamlSource(text);
  // Schema issues on a document that did not parse would only add noise.
  if (source.syntaxIssues.length > 0) throw new SpecError(source.syntaxIssues, { file });
  const result = functionSpecSchema.safeParse(source.data);
  if (result.success) return result.data;
  const issues = fromZodIssues(result.error.issues, functionSpecSchema).map(
    (issue): SpecIssue => ({ path: formatPath(issue.path), message: issue.message, ...source.locate(issue.path, issue.pointAt) }),
  );
  throw new SpecError(issues, { file });
}

/** Validates an already-parsed value (e.g. a Function resource's spec) into a FunctionSpec; throws SpecError without positions. */
export function validateFunctionSpec(value: unknown, options: ParseOptions = {}): FunctionSpec {
  const result = functionSpecSchema.safeParse(value);
  if (result.success) return result.data;
  const issues = fromZodIssues(result.error.issues, functionSpecSchema).map(
    (issue): SpecIssue => ({ path: formatPath(issue.path), message: issue.message }),
  );
  throw new SpecError(issues, options.file === undefined ? {} : { file: options.file });
}
