/** Ambit's typed error base; each shared module adds its own subclasses. */
export { AmbitError } from "./ambit_error.ts";
