/**
 * `-o json|yaml|table`: data commands build rows for the table and hand the
 * raw data for json and yaml, so machine output is never a re-parse of text.
 *
 * @example
 * ```ts
 * io.out(render("table", objects, () => table(["NAME", "KIND"], objects.map((o) => [o.metadata.name, o.kind]))));
 * ```
 * @module
 */
import { stringify } from "yaml";
import type { FlagSpec } from "./args.ts";

export type OutputFormat = "json" | "yaml" | "table";

/** `-o, --output`: shared by every command whose output is data. */
export const OUTPUT_FLAG: FlagSpec = { name: "output", short: "o", kind: "string", values: ["table", "json", "yaml"], default: "table", help: "output format" };

/** JSON (2-space, trailing newline), YAML, or the table `toTable` draws. */
export function render(format: OutputFormat, data: unknown, toTable: () => string): string {
  if (format === "json") return JSON.stringify(data, null, 2) + "\n";
  if (format === "yaml") return stringify(data, { lineWidth: 0 });
  return toTable();
}

/**
 * A kubectl-style table: upper-case headers, columns two spaces apart, "<none>"
 * for a missing (undefined) cell, blank for an empty string. `paint` colours a cell after the widths are measured.
 */
export function table(headers: readonly string[], rows: readonly (readonly (string | number | undefined)[])[], paint?: (value: string, column: number) => string): string {
  const cells = rows.map((r) => headers.map((_, i) => {
    const v = r[i];
    return v === undefined ? "<none>" : String(v);
  }));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]!.length)));
  const line = (r: readonly string[], color: boolean) =>
    r.map((c, i) => {
      const padded = i === r.length - 1 ? c : c.padEnd(widths[i]!);
      return color && paint ? paint(padded, i) : padded;
    }).join("  ").trimEnd();
  return [line(headers, false), ...cells.map((r) => line(r, true))].join("\n") + "\n";
}

/** "3m12s", "2h5m", "4d": how old a timestamp is. */
export function age(iso: string | undefined, now = Date.now()): string {
  if (!iso) return "";
  const s = Math.max(0, Math.floor((now - Date.parse(iso)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m${s % 60 ? `${s % 60}s` : ""}`;
  if (s < 172800) return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d`;
}
