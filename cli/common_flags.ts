/** Flags several commands share, each defined once. @module */
import type { FlagSpec } from "./args.ts";

export { CONTROLPLANE_FLAGS } from "./controlplane_client.ts";
export { FILENAME_FLAG } from "./documents.ts";
export { OUTPUT_FLAG } from "./output.ts";

/** `-n, --namespace`. */
export const NAMESPACE_FLAG: FlagSpec = { name: "namespace", short: "n", kind: "string", placeholder: "ns", help: "namespace (objects without one, or the one to look in)" };

/** `--dry-run`: the controlplane validates and reports, and changes nothing. */
export const DRY_RUN_FLAG: FlagSpec = { name: "dry-run", kind: "boolean", help: "show what would change; change nothing" };
