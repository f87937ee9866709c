// `ambit get <kind> [name]`: stored objects with the status the controlplane
// computes. `-o json|yaml` prints what `ambit apply -f` reads back unchanged.
import type { Condition, KubeObject } from "../../config/objects.ts";
import type { Command } from "../command.ts";
import { CONTROLPLANE_FLAGS, NAMESPACE_FLAG, OUTPUT_FLAG } from "../common_flags.ts";
import { controlplaneFromFlags } from "../controlplane_client.ts";
import { CommandError, UsageError } from "../errors.ts";
import { apiGroup, resolveKind } from "../kind_names.ts";
import { age, type OutputFormat, render, table } from "../output.ts";

export const getCommand: Command = {
  name: "get",
  summary: "list stored objects of a kind (or all), or show one by name",
  usage: "get <kind|all> [name] [flags]",
  description: "Kinds may be given as kubectl does: pod, pods, po, svc, ap, authorizationpolicies.security.istio.io.\n" +
    "Without -n every namespace is listed.",
  flags: [NAMESPACE_FLAG, OUTPUT_FLAG, ...CONTROLPLANE_FLAGS],
  examples: ["ambit get pods -n demo", "ambit get ap allow-client -n demo -o yaml", "ambit get all -o json > backup.json"],
  async run({ flags, args, io }) {
    if (args.length < 1 || args.length > 2) throw new UsageError("usage: ambit get <kind|all> [name]");
    const all = args[0]!.toLowerCase() === "all";
    const kind = all ? undefined : resolveKind(args[0]!);
    const namespace = flags.namespace as string | undefined;
    const name = args[1];
    if (all && name) throw new UsageError("`get all` takes no name");
    const cp = controlplaneFromFlags(flags, io.env);
    try {
      if (name && kind) {
        const o = await io.progress("fetching", cp.get(kind.qualified, kind.namespaced ? namespace ?? "default" : undefined, name));
        if (!o) throw new CommandError(`${kind.kind} ${kind.namespaced ? `${namespace ?? "default"}/` : ""}${name} not found`);
        io.out(render(flags.output as OutputFormat, o, () => objectTable([o], false, true)));
        return 0;
      }
      const { items } = await io.progress("fetching", cp.list({ kind: kind?.kind, namespace }));
      const objects = items.filter((o) => !kind || apiGroup(o.apiVersion) === kind.group);
      const list = { apiVersion: "v1", kind: "List", items: objects };
      if ((flags.output ?? "table") === "table" && objects.length === 0) {
        io.err(`No ${kind ? kind.kind : "objects"} found${namespace ? ` in namespace ${namespace}` : ""}.\n`);
        return 0;
      }
      io.out(render(flags.output as OutputFormat, list, () => objectTable(objects, namespace === undefined, all)));
      return 0;
    } finally {
      cp.close();
    }
  },
};

/** NAMESPACE, KIND, NAME, kind-specific columns, STATUS and AGE. */
function objectTable(objects: readonly KubeObject[], showNamespace: boolean, showKind: boolean): string {
  const kinds = new Set(objects.map((o) => o.kind));
  const extra = kinds.size === 1 ? EXTRA_COLUMNS[[...kinds][0]!] : undefined;
  const headers = [
    ...(showNamespace ? ["NAMESPACE"] : []), ...(showKind ? ["KIND"] : []), "NAME",
    ...(extra?.headers ?? []), "STATUS", "AGE",
  ];
  const sorted = [...objects].sort((a, b) =>
    (a.metadata.namespace ?? "").localeCompare(b.metadata.namespace ?? "") || a.kind.localeCompare(b.kind) || a.metadata.name.localeCompare(b.metadata.name));
  return table(headers, sorted.map((o) => [
    ...(showNamespace ? [o.metadata.namespace ?? ""] : []), ...(showKind ? [o.kind] : []), o.metadata.name,
    ...(extra?.cells(o) ?? []), statusOf(o), age(o.metadata.creationTimestamp),
  ]));
}

type Fields = Record<string, any>;
const EXTRA_COLUMNS: Record<string, { headers: string[]; cells(o: KubeObject): (string | undefined)[] }> = {
  Pod: { headers: ["NODE", "IP"], cells: (o) => [(o.spec as Fields)?.nodeName, (o.status as Fields)?.podIP] },
  Service: {
    headers: ["SELECTOR", "PORTS"],
    cells: (o) => [labels((o.spec as Fields)?.selector), ((o.spec as Fields)?.ports ?? []).map((p: Fields) => `${p.port}→${p.targetPort ?? p.port}`).join(",")],
  },
  AuthorizationPolicy: {
    headers: ["ACTION", "SCOPE"],
    cells: (o) => {
      const s = (o.spec ?? {}) as Fields;
      return [s.action ?? "ALLOW", s.targetRefs || s.targetRef ? "waypoint" : s.selector ? labels(s.selector.matchLabels) : "namespace"];
    },
  },
  Namespace: { headers: ["LABELS"], cells: (o) => [labels(o.metadata.labels)] },
};

function labels(m: Record<string, string> | undefined): string {
  return Object.entries(m ?? {}).map(([k, v]) => `${k}=${v}`).join(",");
}

/** Pods: their phase; others: their conditions, `ZtunnelAccepted=True`. */
function statusOf(o: KubeObject): string {
  const s = (o.status ?? {}) as { phase?: string; conditions?: Condition[] };
  if (o.kind === "Pod") return s.phase ?? "";
  return (s.conditions ?? []).map((c) => `${c.type}=${c.status}`).join(",");
}
