// `ambit apply -f`: validates every document locally with the controlplane's
// own intake (so nothing is sent when anything is wrong), then applies them all
// in one request, which the store commits all or nothing.
import { formatProblem } from "../../config/errors.ts";
import type { Command } from "../command.ts";
import { CONTROLPLANE_FLAGS, DRY_RUN_FLAG, FILENAME_FLAG, NAMESPACE_FLAG, OUTPUT_FLAG } from "../common_flags.ts";
import { controlplaneFromFlags } from "../controlplane_client.ts";
import { readDocuments, sourceName } from "../documents.ts";
import { CommandError } from "../errors.ts";
import { type OutputFormat, render } from "../output.ts";
import { printChanges, printProblems } from "./_report.ts";

export const applyCommand: Command = {
  name: "apply",
  summary: "create or update objects from YAML/JSON files (multi-document, all or nothing)",
  usage: "apply -f <file|dir|-> [flags]",
  description: "Every document is checked before anything is sent; one invalid object means nothing is applied.\n" +
    "Errors name the file, the document (counted from 1), the object and the field.",
  flags: [FILENAME_FLAG, NAMESPACE_FLAG, DRY_RUN_FLAG, OUTPUT_FLAG, ...CONTROLPLANE_FLAGS],
  examples: ["ambit apply -f samples/demo.yaml", "ambit apply -f policies/ --dry-run", "cat policy.yaml | ambit apply -f -"],
  async run({ flags, io }) {
    const read = readDocuments(flags.filename as string[], io, { defaultNamespace: flags.namespace as string | undefined });
    for (const w of read.warnings) io.err(`${io.errColor.yellow("Warning:")} ${formatProblem(w)}\n`);
    if (read.problems.length > 0) {
      printProblems(io, read.problems);
      io.err(`nothing was applied: ${read.problems.length} problem${read.problems.length === 1 ? "" : "s"}\n`);
      return 1;
    }
    if (read.objects.length === 0) throw new CommandError("no objects to apply: the input is empty");
    const cp = controlplaneFromFlags(flags, io.env);
    try {
      const dryRun = flags["dry-run"] === true;
      const result = await io.progress("applying", cp.apply(read.objects.map((o) => o.object), sourceName(read.objects), dryRun));
      // The controlplane's own warnings (translation: what the data plane cannot enforce as written), once each.
      const shown = new Set(read.warnings.map((w) => `${w.object}|${w.message}`));
      for (const w of result.warnings ?? []) if (!shown.has(`${w.object}|${w.message}`)) io.err(`${io.errColor.yellow("Warning:")} ${formatProblem(w)}\n`);
      io.out(render(flags.output as OutputFormat, result, () => printChanges(io, result.changes, dryRun)));
      return 0;
    } finally {
      cp.close();
    }
  },
};
