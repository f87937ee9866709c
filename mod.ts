/**
 * Ambit's shared modules, for programs that embed the mesh's building blocks.
 *
 * @module
 */
export * as identity from "./identity/mod.ts";
export * as hbone from "./hbone/mod.ts";
export { AmbitError } from "./errors/mod.ts";
