/** Splits a PEM bundle into its certificates, each a complete PEM block. */
export function splitPemCertificates(bundle: string): string[] {
  return bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)?.map((b) => b + "\n") ?? [];
}

/** Joins PEM blocks into one bundle, one block after another. */
export function joinPem(blocks: readonly string[]): string {
  return blocks.map((b) => b.trim() + "\n").join("");
}
