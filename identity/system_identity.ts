// Identities of the mesh's own parts. They live outside the /ns/<ns>/sa/<sa>
// space on purpose: a node or controlplane certificate can never pass as a
// workload identity (HBONE peers must parse as one), and no workload
// certificate can pass as a node or the controlplane.
import { IdentityError } from "./errors.ts";

const NODE_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

/** `spiffe://<td>/ambit/node/<node>`: what a node's certificate carries. */
export function nodeUri(trustDomain: string, nodeName: string): string {
  if (!NODE_NAME.test(nodeName)) throw new IdentityError("ERR_SPIFFE_ID_INVALID", `node name "${nodeName}" must be a DNS subdomain`);
  return `spiffe://${trustDomain}/ambit/node/${nodeName}`;
}

/** The node name in a node URI, or undefined when it is not one (of this trust domain). */
export function parseNodeUri(uri: string, trustDomain: string): string | undefined {
  const prefix = `spiffe://${trustDomain}/ambit/node/`;
  if (!uri.startsWith(prefix)) return undefined;
  const name = uri.slice(prefix.length);
  return NODE_NAME.test(name) ? name : undefined;
}

/** `spiffe://<td>/ambit/controlplane`: what the controlplane's serving certificate carries. */
export function controlplaneUri(trustDomain: string): string {
  return `spiffe://${trustDomain}/ambit/controlplane`;
}

/** The URI SANs in Node's `subjectaltname` string. */
export function uriSans(subjectAltName: string | undefined): string[] {
  return (subjectAltName ?? "").split(/,\s*/).filter((s) => s.startsWith("URI:")).map((s) => s.slice(4));
}

/**
 * A TLS `checkServerIdentity` that accepts only a certificate naming the
 * controlplane of `trustDomain`: a workload or node certificate from the same CA
 * is refused during the handshake, before any request (or credential) is sent.
 */
export function checkControlplaneIdentity(trustDomain: string): (host: string, cert: unknown) => Error | undefined {
  const want = controlplaneUri(trustDomain);
  return (_host, cert) => {
    const sans = uriSans((cert as { subjectaltname?: string }).subjectaltname);
    return sans.includes(want) ? undefined : new Error(`the server's certificate names ${sans.join(", ") || "no URI"}, not the controlplane (${want})`);
  };
}
