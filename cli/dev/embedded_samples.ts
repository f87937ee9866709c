/**
 * The samples inside the compiled `dist/ambit`, so `ambit dev` works from any
 * directory: demo.yaml as text, and each sample app as a module the binary
 * runs when started with `AMBIT_SAMPLE_APP=<script>` (cli/main.ts). Loaded only
 * by the compiled binary (a dynamic import keeps Deno, which lacks text
 * imports, from ever reading this file); a checkout reads samples/ instead.
 *
 * @example
 * ```ts
 * const { demoYaml } = await import("./embedded_samples.ts");
 * ```
 * @module
 */
import demo from "../../samples/demo.yaml" with { type: "text" };

/** samples/demo.yaml as it was when the binary was built. */
export const demoYaml: string = demo as unknown as string;

/** The sample apps by script name, as cli/dev/plan.ts names them. */
const APPS: Readonly<Record<string, () => Promise<unknown>>> = {
  "client.ts": () => import("../../samples/apps/client.ts"),
  "hello.ts": () => import("../../samples/apps/hello.ts"),
};

/** Runs a sample app in this process (it reads its flags from process.argv and serves until signalled). */
export async function runSampleApp(script: string): Promise<void> {
  const load = APPS[script];
  if (!load) throw new Error(`no sample app ${script} in this binary (known: ${Object.keys(APPS).join(", ")})`);
  await load();
}
