/**
 * The real kubectl pointed at a test API server (testing/kube_api_server.ts):
 * a kubeconfig in a temp directory, and a runner that fails the test with
 * kubectl's stderr when it exits non-zero.
 *
 * @example
 * ```ts
 * const k = kubectlFor(api);
 * await k.apply(podYaml({ name: "echo", node: "node-b", ip, serviceAccount: "echo" }));
 * ```
 * @module
 */
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { KubeApiServer } from "./kube_api_server.ts";
import { runCommand } from "./processes.ts";

/** kubectl bound to one API server. */
export interface Kubectl {
  readonly kubeconfig: string;
  /** Runs kubectl; resolves with its stdout, fails the test when it exits non-zero. */
  run(args: string[], input?: string): Promise<string>;
  /** `kubectl apply` of YAML (no openapi here: --validate=false). */
  apply(yaml: string): Promise<string>;
  /** Removes the kubeconfig's directory. */
  cleanup(): void;
}

export function kubectlFor(api: KubeApiServer): Kubectl {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ambit-kubectl-"));
  const kubeconfig = path.join(dir, "kubeconfig");
  fs.writeFileSync(kubeconfig, api.kubeconfig());
  const run = async (args: string[], input?: string) => {
    const r = await runCommand("kubectl", ["--kubeconfig", kubeconfig, ...args], { input, env: { KUBECONFIG: kubeconfig } });
    assert.equal(r.code, 0, `kubectl ${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  };
  return {
    kubeconfig, run,
    apply: (yaml) => run(["apply", "--validate=false", "-f", "-"], yaml),
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
