// @peculiar/x509 resolves its ASN.1 codecs through tsyringe, which needs the
// Reflect metadata polyfill loaded first; and it signs through Web Crypto.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";

x509.cryptoProvider.set(globalThis.crypto);

export { x509 };
