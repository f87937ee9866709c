import pkg from "../package.json" with { type: "json" };

/** Ambit's version, as every component reports it (istio_build, `version` commands). */
export const AMBIT_VERSION: string = pkg.version;
