import { createPrivateKey } from "node:crypto";
import { x509 } from "./_x509.ts";


/** The algorithm every workload key uses: ECDSA on P-256, signatures over SHA-256. */
export const WORKLOAD_KEY_ALGORITHM = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;

/** A Web Crypto key pair with its private key in PEM, as node:tls wants it. */
export interface KeyMaterial {
  readonly keys: CryptoKeyPair;
  readonly privateKeyPem: string;
}

/** Generates an ECDSA P-256 key pair for a workload or CA. */
export async function generateKeyMaterial(): Promise<KeyMaterial> {
  const keys = await crypto.subtle.generateKey(WORKLOAD_KEY_ALGORITHM, true, ["sign", "verify"]) as CryptoKeyPair;
  return { keys, privateKeyPem: await exportPrivateKeyPem(keys.privateKey) };
}

/** PKCS#8 PEM of a private key. */
export async function exportPrivateKeyPem(key: CryptoKey): Promise<string> {
  const der = await crypto.subtle.exportKey("pkcs8", key);
  return x509.PemConverter.encode(der, "PRIVATE KEY");
}

/** The signing algorithm that goes with a key (ECDSA P-256 or RSA, as Istio plug-in CAs may hold either). */
export type SigningAlgorithm = { name: "ECDSA"; hash: "SHA-256" } | { name: "RSASSA-PKCS1-v1_5"; hash: "SHA-256" };

/**
 * Imports a PEM private key of any common encoding (PKCS#8, SEC1 "EC PRIVATE KEY",
 * PKCS#1 "RSA PRIVATE KEY") with its public half, as the plug-in CA files come in all three.
 */
export async function importPrivateKeyPem(pem: string): Promise<{ keys: CryptoKeyPair; algorithm: SigningAlgorithm }> {
  const key = createPrivateKey(pem);
  const pkcs8 = key.export({ type: "pkcs8", format: "der" });
  const spki = (await import("node:crypto")).createPublicKey(key).export({ type: "spki", format: "der" });
  if (key.asymmetricKeyType === "ec") {
    const alg = { name: "ECDSA", namedCurve: key.asymmetricKeyDetails?.namedCurve === "prime256v1" ? "P-256" : "P-384" };
    return {
      keys: {
        privateKey: await crypto.subtle.importKey("pkcs8", pkcs8, alg, true, ["sign"]),
        publicKey: await crypto.subtle.importKey("spki", spki, alg, true, ["verify"]),
      },
      algorithm: { name: "ECDSA", hash: "SHA-256" },
    };
  }
  if (key.asymmetricKeyType === "rsa") {
    const alg = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
    return {
      keys: {
        privateKey: await crypto.subtle.importKey("pkcs8", pkcs8, alg, true, ["sign"]),
        publicKey: await crypto.subtle.importKey("spki", spki, alg, true, ["verify"]),
      },
      algorithm: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
    };
  }
  throw new Error(`unsupported key type ${key.asymmetricKeyType}`);
}
