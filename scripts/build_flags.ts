/**
 * `bun build` flags for the service binaries. Bytecode (which needs
 * --format=esm for top-level await) and minification cut the compiled ztunnel's
 * exec → ready by about a third (bench/startup.ts, docs/performance.md);
 * --keep-names keeps class names, which errors print.
 */
export const COMPILE_FLAGS: readonly string[] = ["--compile", "--bytecode", "--format=esm", "--minify", "--keep-names"];
