// Every authorization decision ztunnel makes at the destination is logged with
// the policy that decided it and counted; dry-run outcomes likewise, marked as
// what would have happened.
import { formatAuthority, type SocketAddress } from "../hbone/mod.ts";
import { formatSpiffeId, type SpiffeId } from "../identity/mod.ts";
import type { Logger, Metric, MetricsRegistry } from "../telemetry/mod.ts";
import type { AuthorizationDecision } from "./rbac.ts";

/** Logs and counts authorization outcomes. */
export class AuthorizationReport {
  readonly #decisions: Metric;
  readonly #dryRun: Metric;

  constructor(registry: MetricsRegistry, private readonly log: Logger) {
    this.#decisions = registry.counter("ambit_authorization_decisions_total", "Connections allowed or denied by L4 authorization at the destination", ["decision", "policy", "destination_workload", "destination_workload_namespace"]);
    this.#dryRun = registry.counter("ambit_authorization_dry_run_total", "What dry-run policies would have decided (never enforced)", ["would", "policy", "destination_workload", "destination_workload_namespace"]);
  }

  record(decision: AuthorizationDecision, ctx: { source?: SpiffeId; sourceAddress: string; destination: SocketAddress; workload: { name: string; namespace: string }; reason?: string }): void {
    const labels = { destination_workload: ctx.workload.name, destination_workload_namespace: ctx.workload.namespace };
    this.#decisions.inc({ decision: decision.allowed ? "allow" : "deny", policy: decision.policy ?? "none", ...labels });
    const fields = {
      "src.identity": ctx.source ? formatSpiffeId(ctx.source) : "none (plaintext)",
      "src.addr": ctx.sourceAddress,
      "dst.addr": formatAuthority(ctx.destination),
      "dst.workload": `${ctx.workload.namespace}/${ctx.workload.name}`,
    };
    if (!decision.allowed) this.log.info("rbac", ctx.reason ?? "connection denied", { ...fields, policy: decision.policy ?? "none", reason: decision.reason });
    if (decision.dryRun) {
      this.#dryRun.inc({ would: decision.dryRun.wouldAllow ? "allow" : "deny", policy: decision.dryRun.policy ?? "none", ...labels });
      this.log.info("rbac", `dry-run: would ${decision.dryRun.wouldAllow ? "allow" : "deny"}`, { ...fields, policy: decision.dryRun.policy ?? "none", enforced: decision.allowed ? "allow" : "deny" });
    }
  }
}
