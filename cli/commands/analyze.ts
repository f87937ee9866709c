// `ambit analyze -f`: offline, like `istioctl analyze` on local files: schema
// errors with file, object and field, then warnings about what would not work
// as written. Exit 1 on errors; warnings alone exit 0.
import type { Command } from "../command.ts";
import { FILENAME_FLAG, NAMESPACE_FLAG, OUTPUT_FLAG } from "../common_flags.ts";
import { analyze, formatMessage } from "../analyze/mod.ts";
import { readDocuments } from "../documents.ts";
import type { Io } from "../io.ts";
import { type OutputFormat, render } from "../output.ts";
import type { AnalysisMessage } from "../analyze/messages.ts";

export const analyzeCommand: Command = {
  name: "analyze",
  summary: "check config files offline: schema errors, and warnings about what would not take effect",
  usage: "analyze -f <file|dir|-> [flags]",
  description: "No controlplane is needed: the files are analyzed together, as one set. Warnings:\n" +
    "  IST0127 a selector that matches no Pod or WorkloadEntry in the set\n" +
    "  IST0101 istio.io/use-waypoint naming a Gateway not in the set\n" +
    "  AMB0101 L7 fields (hosts, methods, paths, requestPrincipals, …) in a policy without targetRefs (ztunnel is L4)\n" +
    "  AMB0102 a Service with no endpoints\n" +
    "  AMB0103 a principal in another trust domain\n" +
    "Exit 1 when there are errors; warnings alone exit 0.",
  flags: [
    FILENAME_FLAG, NAMESPACE_FLAG,
    { name: "trust-domain", kind: "string", default: "cluster.local", env: "TRUST_DOMAIN", help: "the mesh's trust domain, for principals" },
    { name: "root-namespace", kind: "string", default: "istio-system", help: "policies here select workloads in every namespace" },
    OUTPUT_FLAG,
  ],
  examples: ["ambit analyze -f samples/", "ambit analyze -f policy.yaml -f workloads.yaml -o json"],
  async run({ flags, io }) {
    const files = flags.filename as string[];
    const read = readDocuments(files, io, { defaultNamespace: flags.namespace as string | undefined });
    const messages = analyze(read, { trustDomain: flags["trust-domain"] as string, rootNamespace: flags["root-namespace"] as string });
    const errors = messages.filter((m) => m.level === "Error").length;
    io.out(render(flags.output as OutputFormat, messages, () => report(messages, read.objects.length, files, io)));
    return errors > 0 ? 1 : 0;
  },
};

function report(messages: readonly AnalysisMessage[], objects: number, files: readonly string[], io: Io): string {
  if (messages.length === 0) return `${io.color.green("✔")} No validation issues found when analyzing ${objects} object${objects === 1 ? "" : "s"} in ${files.join(", ")}.\n`;
  const paint = (m: AnalysisMessage) => {
    const line = formatMessage(m);
    const level = m.level === "Error" ? io.color.red(m.level) : m.level === "Warning" ? io.color.yellow(m.level) : m.level;
    return level + line.slice(m.level.length);
  };
  return messages.map((m) => paint(m) + "\n").join("");
}
