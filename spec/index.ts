// Public API of spec/: parsing and validating function.yaml. Other folders import only from here.
export type { BatchSpec, EventTrigger, FunctionSpec, ResourceSpec, ScaleSpec } from "./types.ts";
export { SpecError, formatIssue } from "./errors.ts";
export type { SpecErrorOptions, SpecIssue } from "./errors.ts";
export { parseFunctionSpec, validateFunctionSpec } from "./parse.ts";
export type { ParseOptions } from "./parse.ts";
export { SPEC_FILE_NAMES, loadFunctionSpec } from "./load.ts";
export {
  DEFAULTS, ENTRY_EXTENSIONS, ENV_NAME_PATTERN, LIMITS, NAME_PATTERN, REPLY_PATTERN, SUBJECT_PATTERN,
  YAML_DEFAULTS, functionSpecSchema, makeFunctionSpecJsonSchema, subjectMatches,
} from "./schema.ts";
export { UNIT_META } from "./schema-fields.ts";
export {
  formatDuration, formatSize, parseDuration, parseQuantity, parseSize,
  tryParseDuration, tryParseQuantity, tryParseSize,
} from "./units.ts";
