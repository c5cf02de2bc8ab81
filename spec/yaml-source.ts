import { LineCounter, isAlias, isMap, isScalar, isSeq, parseDocument } from "yaml";
import type { Document, Node, YAMLError } from "yaml";
import type { SpecIssue } from "./errors.ts";

/** A parsed YAML text: its data, its syntax issues, and a way to find where a path sits in it. */
export interface YamlSource {
  /** The document as plain JS (undefined when it has syntax issues). */
  data: unknown;
  /** YAML syntax problems (tabs, unclosed quotes, duplicate keys...), path `(yaml)`. */
  syntaxIssues: SpecIssue[];
  /** 1-based position of the value (or key) at `path`; a missing path points at its nearest existing parent. */
  locate(path: readonly (string | number)[], pointAt: "key" | "value"): { line: number; column: number };
}

/** Parses YAML text, keeping source ranges so schema issues can be given a line and column. */
export function parseYamlSource(text: string): YamlSource {
  const lineCounter = new LineCounter();
  // uniqueKeys: a repeated key silently overriding the first is exactly the kind of mistake to report.
  // logLevel "error": yaml would otherwise print warnings (e.g. about collection keys) to stderr
  // itself; such keys are reported as unknown keys by the schema anyway.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, logLevel: "error" });
  const at = (offset: number) => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  const locate: YamlSource["locate"] = (path, pointAt) => at(findOffset(doc, path, pointAt));
  const syntaxIssues = doc.errors.map((error) => ({ path: "(yaml)", message: describeYamlError(error, text), ...at(error.pos[0]) }));
  if (syntaxIssues.length > 0) return { data: undefined, syntaxIssues, locate };
  try {
    return { data: doc.toJS({ maxAliasCount: 100 }), syntaxIssues, locate };
  } catch (error) {
    // Alias problems (unknown anchor, alias bombs) surface only when converting.
    const message = lowerFirst(error instanceof Error ? error.message : String(error));
    return { data: undefined, syntaxIssues: [{ path: "(yaml)", message, line: 1, column: 1 }], locate };
  }
}

/** Walks the document along `path` as far as it exists and returns the offset to point at. */
function findOffset(doc: Document, path: readonly (string | number)[], pointAt: "key" | "value"): number {
  let node: unknown = doc.contents;
  let keyNode: Node | undefined;
  let depth = 0;
  for (const segment of path) {
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === String(segment));
      if (!pair) break;
      keyNode = pair.key as Node;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === "number" && segment < node.items.length) {
      keyNode = undefined;
      node = node.items[segment];
    } else {
      break;
    }
    depth++;
  }
  // A missing key is reported at the key of the mapping that lacks it (e.g. `batch:`),
  // which reads better than the first child of that mapping.
  const wantKey = depth < path.length || pointAt === "key" || !hasRange(node);
  const target = wantKey && keyNode ? keyNode : node;
  return hasRange(target) ? target.range[0] : 0;
}

function hasRange(node: unknown): node is { range: [number, number, number] } {
  return typeof node === "object" && node !== null && Array.isArray((node as { range?: unknown }).range);
}

/** The yaml package's message, made specific where it helps (which key is duplicated, what to do about tabs). */
function describeYamlError(error: YAMLError, text: string): string {
  if (error.code === "DUPLICATE_KEY") {
    const key = /^\s*("[^"]*"|'[^']*'|[^:#\n]+?)\s*:/.exec(text.slice(error.pos[0]))?.[1];
    return key ? `duplicate key ${JSON.stringify(key.replace(/^["']|["']$/g, ""))}` : "duplicate key";
  }
  if (error.code === "TAB_AS_INDENT") return "tabs are not allowed as indentation (indent with spaces)";
  // yaml reports an unclosed quote where the text runs out, so say what is missing plainly.
  if (error.code === "MISSING_CHAR" && /quote/.test(error.message)) return "missing closing quote of a quoted string";
  return lowerFirst(error.message.split("\n")[0] ?? error.message);
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}
