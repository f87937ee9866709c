// Lines for config problems: a field path or a nesting limit traced back to
// where it sits in the YAML the user wrote, so an error can say "line 13".
import { type Document, isCollection, isMap, isPair, isSeq, type LineCounter, type Node } from "yaml";

/** Finds the line of a field path in one document; the nearest existing parent when the field is missing. */
export function lineOfPath(doc: Document.Parsed, lines: LineCounter, path: readonly PropertyKey[]): number | undefined {
  for (let n = path.length; n >= 0; n--) {
    const node = doc.getIn(path.slice(0, n) as unknown[], true) as Node | undefined;
    if (node && typeof node === "object" && "range" in node && node.range) {
      // A missing field is reported at its parent map; point at the map's first line, not its end.
      return lines.linePos(node.range[0]).line;
    }
  }
  return undefined;
}

/** The line of the first collection nested deeper than `limit` (counting the document's top level as 1). */
export function lineBeyondDepth(doc: Document.Parsed, lines: LineCounter, limit: number): number | undefined {
  const stack: [unknown, number][] = [[doc.contents, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (!isCollection(node)) continue;
    if (depth > limit) return node.range ? lines.linePos(node.range[0]).line : undefined;
    if (isMap(node)) for (const pair of node.items) if (isPair(pair)) stack.push([pair.value, depth + 1]);
    if (isSeq(node)) for (const item of node.items) stack.push([item, depth + 1]);
  }
  return undefined;
}

/** The line holding character `index` of `text` (1-based). */
export function lineAtIndex(text: string, index: number): number {
  let line = 1;
  for (let i = text.indexOf("\n"); i !== -1 && i < index; i = text.indexOf("\n", i + 1)) line++;
  return line;
}
