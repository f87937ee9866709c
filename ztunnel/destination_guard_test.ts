// Table tests for the destinations no connection may have.
import { expect, test } from "bun:test";
import { checkDestination, type DestinationRules, reservedPortsOf } from "./destination_guard.ts";

const defaults = { adminPort: 15000, metricsPort: 15020, readinessPort: 15021, hbonePort: 15008, plaintextPort: 15006, socksPort: 15080 };
const moved = { adminPort: 25000, metricsPort: 25020, readinessPort: 25021, hbonePort: 25008, plaintextPort: 25006, socksPort: 25080 };
const strict: DestinationRules = { reservedPorts: reservedPortsOf(defaults), allowLinkLocal: false };
const relocated: DestinationRules = { reservedPorts: reservedPortsOf(moved), allowLinkLocal: false };
const metadataAllowed: DestinationRules = { ...strict, allowLinkLocal: true };

const rows: { name: string; address?: string; port: number; rules: DestinationRules; want?: string }[] = [
  ...[15000, 15001, 15006, 15008, 15020, 15021, 15053, 15080].map((port) => ({ name: `Istio's port ${port}`, port, rules: strict, want: "self-call" })),
  ...Object.entries(moved).map(([flag, port]) => ({ name: `a port set by --${flag} (${port})`, port, rules: relocated, want: "self-call" })),
  { name: "Istio's ports stay reserved when the flags move the listeners", port: 15080, rules: relocated, want: "self-call" },
  { name: "an application port", port: 8080, rules: strict },
  { name: "a port next to a reserved one", port: 15081, rules: strict },
  { name: "a reserved port on any address (self-call beats link-local)", address: "169.254.169.254", port: 15008, rules: strict, want: "self-call" },
  { name: "the metadata service", address: "169.254.169.254", port: 80, rules: strict, want: "link-local" },
  { name: "169.254.0.0/16's first address", address: "169.254.0.1", port: 80, rules: strict, want: "link-local" },
  { name: "IPv4-mapped metadata address", address: "::ffff:169.254.169.254", port: 80, rules: strict, want: "link-local" },
  { name: "IPv6 link-local fe80::/10", address: "fe80::1", port: 80, rules: strict, want: "link-local" },
  { name: "IPv6 link-local fe80::/10's top (febf::)", address: "febf::1", port: 80, rules: strict, want: "link-local" },
  { name: "fec0:: is outside fe80::/10", address: "fec0::1", port: 80, rules: strict },
  { name: "169.255.0.1 is outside 169.254.0.0/16", address: "169.255.0.1", port: 80, rules: strict },
  { name: "an ordinary address", address: "203.0.113.7", port: 443, rules: strict },
  { name: "metadata allowed by --passthrough-link-local", address: "169.254.169.254", port: 80, rules: metadataAllowed },
  { name: "no address given (inbound): only ports count", port: 80, rules: strict },
];

for (const row of rows) {
  test(`checkDestination: ${row.name}${row.address ? ` ${row.address}` : ""}:${row.port} → ${row.want ?? "allowed"}`, () => {
    const r = checkDestination({ address: row.address, port: row.port }, row.rules);
    expect(r?.reason).toBe(row.want as never);
    if (r) expect(r.message).toContain(r.reason === "self-call" ? String(row.port) : row.address!);
  });
}

test("reservedPortsOf: port 0 (any free port) is not reserved", () => {
  expect(reservedPortsOf({ ...defaults, adminPort: 0 }).has(0)).toBe(false);
});
