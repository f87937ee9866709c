// `ambit delete -f …` or `ambit delete <kind> <name>…`: removes objects. A name
// that does not exist is an error (exit 1) unless --ignore-not-found, as kubectl.
import { DEFAULT_NAMESPACE } from "../../config/intake.ts";
import type { Flags } from "../args.ts";
import type { Command } from "../command.ts";
import { CONTROLPLANE_FLAGS, DRY_RUN_FLAG, FILENAME_FLAG, NAMESPACE_FLAG, OUTPUT_FLAG } from "../common_flags.ts";
import { type ControlplaneClient, controlplaneFromFlags, type ObjectChange } from "../controlplane_client.ts";
import { readDocuments, sourceName } from "../documents.ts";
import { UsageError } from "../errors.ts";
import type { Io } from "../io.ts";
import { resolveKind } from "../kind_names.ts";
import { type OutputFormat, render } from "../output.ts";
import { printChanges, printProblems } from "./_report.ts";

export const deleteCommand: Command = {
  name: "delete",
  summary: "delete the objects in files, or objects by kind and name",
  usage: "delete (-f <file|dir|-> | <kind> <name>...) [flags]",
  flags: [
    FILENAME_FLAG, NAMESPACE_FLAG, DRY_RUN_FLAG,
    { name: "ignore-not-found", kind: "boolean", help: "succeed when an object does not exist" },
    OUTPUT_FLAG, ...CONTROLPLANE_FLAGS,
  ],
  examples: ["ambit delete -f samples/demo.yaml", "ambit delete authorizationpolicy allow-client -n demo"],
  async run({ flags, args, io }) {
    const files = flags.filename as string[];
    if (files.length > 0 && args.length > 0) throw new UsageError("give either -f or a kind and names, not both");
    if (files.length === 0 && args.length < 2) throw new UsageError("what to delete: -f <file> or <kind> <name>...");
    const cp = controlplaneFromFlags(flags, io.env);
    try {
      const changes = files.length > 0 ? await deleteFiles(cp, files, flags, io) : await deleteNamed(cp, args, flags, io);
      if (!changes) return 1;
      io.out(render(flags.output as OutputFormat, { changes }, () => printChanges(io, changes, flags["dry-run"] === true)));
      return changes.some((c) => c.verb === "not found") && !flags["ignore-not-found"] ? 1 : 0;
    } finally {
      cp.close();
    }
  },
};

async function deleteFiles(cp: ControlplaneClient, files: string[], flags: Flags, io: Io): Promise<ObjectChange[] | undefined> {
  const read = readDocuments(files, io, { defaultNamespace: flags.namespace as string | undefined });
  if (read.problems.length > 0) {
    printProblems(io, read.problems);
    io.err("nothing was deleted\n");
    return undefined;
  }
  const objects = read.objects.map((o) => o.object);
  return (await io.progress("deleting", cp.delete(objects, sourceName(read.objects), flags["dry-run"] === true))).changes;
}

async function deleteNamed(cp: ControlplaneClient, [kindName, ...names]: readonly string[], flags: Flags, io: Io): Promise<ObjectChange[]> {
  const kind = resolveKind(kindName!);
  const namespace = kind.namespaced ? (flags.namespace as string | undefined) ?? DEFAULT_NAMESPACE : undefined;
  const changes: ObjectChange[] = [];
  for (const name of names) {
    if (flags["dry-run"]) {
      const found = await cp.get(kind.qualified, namespace, name);
      changes.push({ object: `${kind.kind} ${namespace ? `${namespace}/` : ""}${name}`, verb: found ? "deleted" : "not found" });
      continue;
    }
    const { changes: done } = await io.progress(`deleting ${name}`, cp.deleteObject(kind.qualified, namespace, name));
    changes.push(...done.map((c) => ({ ...c, object: c.object.replace(kind.qualified, kind.kind) })));
  }
  return changes;
}
