/**
 * The config intake: reads Kubernetes-style YAML or JSON (what `kubectl apply -f`
 * takes) into validated, frozen objects, or throws a {@link ConfigError} naming
 * every problem, each with its file, document, object and field. Nothing partial
 * is ever returned.
 *
 * @example
 * ```ts
 * const { objects, warnings } = parseConfig(fs.readFileSync("policy.yaml", "utf8"), "policy.yaml");
 * ```
 * @module
 */
import { Buffer } from "node:buffer";
import { Composer, type Document, isScalar, LineCounter, Parser, type YAMLError } from "yaml";
import { z } from "zod";
import { type ConfigProblem, ConfigError, formatFieldPath } from "./errors.ts";
import { findKind, groupKind, type KindInfo, KINDS, kindsNamed } from "./kinds/mod.ts";
import { kindErrorMessage } from "./kinds/_messages.ts";
import { describeObject, type KubeObject } from "./objects.ts";
import { problemsFromZod } from "./zod_problems.ts";
import { lineAtIndex, lineBeyondDepth, lineOfPath } from "./_locate.ts";

/** Namespace given to namespaced objects that name none (as `kubectl apply` without `-n`). */
export const DEFAULT_NAMESPACE = "default";
/** Default limit on the input's size: 4 MiB. */
export const MAX_CONFIG_BYTES = 4 * 1024 * 1024;
/** Default limit on non-empty documents in one input. */
export const MAX_DOCUMENTS = 1000;
/** YAML alias expansion limit (the `yaml` package's `maxAliasCount`): stops "billion laughs" inputs. */
export const MAX_ALIAS_COUNT = 100;
/** Deepest nesting of maps and lists accepted in a document; the top-level map is level 1. */
export const MAX_NESTING_DEPTH = 64;

/** Options of {@link parseConfig}. */
export interface ParseConfigOptions {
  /** "strict" (default): unknown fields are errors. "warn": they are dropped, with a warning each. */
  readonly validate?: "strict" | "warn";
  /** Namespace for namespaced objects without `metadata.namespace`; default {@link DEFAULT_NAMESPACE}. */
  readonly defaultNamespace?: string;
  /** Limit on the whole input's size in bytes; default {@link MAX_CONFIG_BYTES}. */
  readonly maxDocumentBytes?: number;
  /** Limit on non-empty documents (twice as many empty ones are tolerated); default {@link MAX_DOCUMENTS}. */
  readonly maxDocuments?: number;
}

/** What {@link parseConfig} returns. */
export interface ParsedConfig {
  /** Every object, validated and frozen, in input order. */
  readonly objects: KubeObject[];
  /** Stored-only kinds, and unknown fields dropped under `validate: "warn"`. */
  readonly warnings: ConfigProblem[];
}

interface Item {
  readonly document: number;
  readonly raw: unknown;
  /** Finds the line of a path within the item (relative to `base`). */
  readonly lineOf?: (path: readonly PropertyKey[]) => number | undefined;
  /** Where the object sits in its document: `[]`, `["items", 2]`, `[2]`. */
  readonly base: readonly PropertyKey[];
}

/**
 * Parses multi-document YAML (`---`) or JSON (one object, a `kind: List` with
 * `items`, or an array), validating each object against its kind.
 * Documents are numbered from 1, counting only non-empty ones.
 * @throws {ConfigError} with every problem found, when anything is invalid.
 */
export function parseConfig(text: string, file: string, options: ParseConfigOptions = {}): ParsedConfig {
  const maxBytes = options.maxDocumentBytes ?? MAX_CONFIG_BYTES;
  const bytes = text.length > maxBytes ? text.length : Buffer.byteLength(text, "utf8");
  if (bytes > maxBytes) {
    const line = lineAtIndex(text, Buffer.from(text.slice(0, maxBytes + 1)).subarray(0, maxBytes).toString().length);
    throw new ConfigError([{ file, field: "", line, message: `input is ${bytes} bytes, over the limit of ${maxBytes} bytes` }]);
  }
  const deepAt = nestingExceeds(text, 1000);
  if (deepAt >= 0) throw new ConfigError([{ file, field: "", line: lineAtIndex(text, deepAt), message: `nesting is deeper than ${MAX_NESTING_DEPTH} levels` }]);

  const problems: ConfigProblem[] = [];
  const warnings: ConfigProblem[] = [];
  const items = readDocuments(text, file, options.maxDocuments ?? MAX_DOCUMENTS, problems, warnings);
  const objects: KubeObject[] = [];
  const seen = new Map<string, { document: number; base: readonly PropertyKey[] }>();
  for (const item of items) {
    const where = { file, document: item.document };
    const r = validateObject(item, where, options, problems, warnings);
    if (!r) continue;
    const { object, info } = r;
    const key = `${groupKind(info.group, info.kind)}/${object.metadata.namespace ?? ""}/${object.metadata.name}`;
    const first = seen.get(key);
    if (first) {
      const at = first.base.length > 0 ? ` (${formatFieldPath(first.base)})` : "";
      problems.push({
        ...where, object: describeObject(object), field: formatFieldPath([...item.base, "metadata", "name"]),
        message: `duplicate: ${describeObject(object)} is already defined in document ${first.document}${at}`,
      });
    } else {
      seen.set(key, item);
      objects.push(object);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return { objects, warnings };
}

/** Splits the input into documents and their objects, stopping at the document limit. */
function readDocuments(text: string, file: string, maxDocuments: number, problems: ConfigProblem[], warnings: ConfigProblem[]): Item[] {
  const lines = new LineCounter();
  const composer = new Composer({ uniqueKeys: true, merge: true });
  const syntax = /^\s*[[{]/.test(text) ? "JSON" : "YAML";
  const located = (e: YAMLError, document: number, what: string): ConfigProblem => {
    const { line, col } = lines.linePos(e.pos[0]);
    return { file, document, field: "", message: `${what} at line ${line}, column ${col}: ${e.message.split("\n")[0]}` };
  };
  const items: Item[] = [];
  let document = 0;
  let seenDocuments = 0;
  for (const doc of composer.compose(new Parser(lines.addNewLine).parse(text))) {
    if (++seenDocuments > 2 * maxDocuments || (!isEmpty(doc) && ++document > maxDocuments)) {
      problems.push({ file, ...(document > 0 && { document }), field: "", message: `more than ${maxDocuments} documents: split the input` });
      break;
    }
    if (isEmpty(doc)) continue;
    if (doc.errors.length > 0) {
      // One mistake often yields several errors at the same place: report it once.
      const at = new Set<number>();
      problems.push(...doc.errors.filter((e) => !at.has(e.pos[0]) && at.add(e.pos[0])).map((e) => located(e, document, `${syntax} syntax error`)));
      continue;
    }
    warnings.push(...doc.warnings.map((w) => located(w, document, syntax)));
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (e) {
      const message = /alias/i.test((e as Error).message)
        ? `too many aliases: YAML alias expansion is limited to ${MAX_ALIAS_COUNT}`
        : `YAML: ${(e as Error).message}`;
      problems.push({ file, document, field: "", message });
      continue;
    }
    if (deeperThan(value, MAX_NESTING_DEPTH)) {
      const line = lineBeyondDepth(doc, lines, MAX_NESTING_DEPTH);
      problems.push({ file, document, field: "", ...(line !== undefined && { line }), message: `nesting is deeper than ${MAX_NESTING_DEPTH} levels` });
      continue;
    }
    const lineOf = (path: readonly PropertyKey[]) => lineOfPath(doc, lines, path);
    items.push(...itemsOf(value, document, file, problems).map((item) => ({ ...item, lineOf: (path: readonly PropertyKey[]) => lineOf([...item.base, ...path]) })));
  }
  return items;
}

function isEmpty(doc: Document.Parsed): boolean {
  return doc.errors.length === 0 && (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null));
}

/** A document holds one object, a `kind: List` of them, or (JSON) an array of them. */
function itemsOf(value: unknown, document: number, file: string, problems: ConfigProblem[]): Item[] {
  if (Array.isArray(value)) return value.map((raw, i) => ({ document, raw, base: [i] }));
  if (!isRecord(value) || value.kind !== "List") return [{ document, raw: value, base: [] }];
  const list = z.strictObject({ apiVersion: z.literal("v1"), kind: z.literal("List"), metadata: z.unknown().optional(), items: z.array(z.unknown()) })
    .safeParse(value, { error: kindErrorMessage });
  if (!list.success) {
    problems.push(...problemsFromZod(list.error, { file, document, object: "List" }));
    return [];
  }
  return list.data.items.map((raw, i) => ({ document, raw, base: ["items", i] }));
}

/** Checks one object against its kind; problems and warnings are appended, never thrown. */
function validateObject(
  item: Item,
  where: { file: string; document: number },
  options: ParseConfigOptions,
  problems: ConfigProblem[],
  warnings: ConfigProblem[],
): { object: KubeObject; info: KindInfo } | undefined {
  const at = (...path: PropertyKey[]) => formatFieldPath([...item.base, ...path]);
  const raw = item.raw;
  if (!isRecord(raw)) {
    problems.push({ ...where, field: at(), message: "must be a map with apiVersion, kind and metadata" });
    return undefined;
  }
  dropNulls(raw);
  const { apiVersion, kind } = raw;
  const missing = [["apiVersion", apiVersion], ["kind", kind]].filter(([, v]) => typeof v !== "string" || v === "");
  if (missing.length > 0) {
    for (const [field, v] of missing) problems.push({ ...where, field: at(field as string), message: v === undefined ? "required" : "must be a non-empty string" });
    return undefined;
  }
  const meta = isRecord(raw.metadata) ? raw.metadata : undefined;
  const info = findKind(apiVersion as string, kind as string);
  const name = (namespaced: boolean) => describeObject({
    kind: kind as string,
    metadata: { name: str(meta?.name), namespace: namespaced ? str(meta?.namespace) : undefined },
  });
  if (!info) {
    const named = kindsNamed(kind as string);
    const message = named.length > 0
      ? `apiVersion "${apiVersion}" is not known for kind ${kind}: use ${named.flatMap((k) => k.apiVersions).join(", ")}`
      : `unknown kind "${kind}": Ambit accepts ${[...new Set(Object.values(KINDS).map((k) => k.kind))].sort().join(", ")}`;
    problems.push({ ...where, object: name(true), field: at(named.length > 0 ? "apiVersion" : "kind"), message });
    return undefined;
  }
  if (info.namespaced && meta && (meta.namespace === undefined || meta.namespace === "")) meta.namespace = options.defaultNamespace ?? DEFAULT_NAMESPACE;
  const located = { ...where, object: name(info.namespaced) };

  let result = info.schema.safeParse(raw, { error: kindErrorMessage });
  // Dropping the unknown fields can reveal none below them (zod reports every
  // level at once), but a bounded loop costs nothing and guards odd schemas.
  for (let round = 0; round < 4 && !result.success && options.validate === "warn"; round++) {
    const unknown = result.error.issues.filter((i) => i.code === "unrecognized_keys");
    if (unknown.length === 0) break;
    for (const issue of unknown) {
      const target = issue.path.reduce<unknown>((o, k) => (isRecord(o) || Array.isArray(o) ? (o as Record<PropertyKey, unknown>)[k] : undefined), raw);
      if (isRecord(target)) for (const k of issue.keys) delete target[k];
    }
    warnings.push(...problemsFromZod(new z.ZodError(unknown), located, item.base).map((p) => ({ ...p, message: `${p.message} ignored` })));
    result = info.schema.safeParse(raw, { error: kindErrorMessage });
  }
  if (!result.success) {
    problems.push(...problemsFromZod(result.error, located, item.base).map((p, i) => {
      const line = item.lineOf?.(result.error.issues[i]!.path);
      return line === undefined ? p : { ...p, line };
    }));
    return undefined;
  }
  if (!info.enforced) warnings.push({ ...located, field: at("kind"), message: `${info.kind} (${info.group}) is stored but not enforced by Ambit` });
  return { object: deepFreeze(result.data), info };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

/** Kubernetes reads a null field as an absent one (`spec:` with nothing under it). */
function dropNulls(v: unknown): void {
  if (Array.isArray(v)) v.forEach(dropNulls);
  else if (isRecord(v)) {
    for (const [k, child] of Object.entries(v)) {
      if (child === null) delete v[k];
      else dropNulls(child);
    }
  }
}

/** Depth of maps and lists, counted without recursion (aliases may even make cycles). */
function deeperThan(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== "object" || v === null) continue;
    if (depth > limit) return true;
    for (const child of Object.values(v)) stack.push([child, depth + 1]);
  }
  return false;
}

/**
 * A cheap upper bound on nesting, checked before parsing: flow brackets plus
 * block-sequence dashes on one line (`- - - x`). Only hostile input comes near
 * the bound; real documents are then held to {@link MAX_NESTING_DEPTH} exactly.
 * Returns where the bound is crossed, or -1.
 */
function nestingExceeds(text: string, bound: number): number {
  let depth = 0;
  let dashes = 0;
  let lineStart = true;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "\n") {
      lineStart = true;
      dashes = 0;
    } else if (c === "[" || c === "{") {
      if (++depth + dashes > bound) return i;
    } else if (c === "]" || c === "}") {
      if (depth > 0) depth--;
    } else if (lineStart && (c === "-" || c === "?") && (text[i + 1] === " " || text[i + 1] === "\t")) {
      if (depth + ++dashes > bound) return i;
    } else if (c !== " " && c !== "\t") {
      lineStart = false;
    }
  }
  return -1;
}

function deepFreeze<T>(v: T): T {
  if (typeof v === "object" && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const child of Object.values(v)) deepFreeze(child);
  }
  return v;
}
