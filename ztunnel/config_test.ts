import { expect, test } from "bun:test";
import { loadZtunnelConfig, ZTUNNEL_OPTIONS, ztunnelHelp } from "./config.ts";

test("defaults, then environment, then flags", () => {
  const c = loadZtunnelConfig(["--node", "n1", "--socks-port=1080"], { LOCAL_XDS_PATH: "/etc/z.yaml", AMBIT_SOCKS_PORT: "9999", TRUST_DOMAIN: "example.org" });
  expect(c).toMatchObject({ node: "n1", socksPort: 1080, localConfig: "/etc/z.yaml", trustDomain: "example.org", address: "127.0.0.1", hbonePort: 15008, passthrough: true });
  expect(Object.isFrozen(c)).toBe(true);
});

test("booleans take --flag, --no-flag, --flag=false and the environment", () => {
  expect(loadZtunnelConfig(["--no-passthrough"], {}).passthrough).toBe(false);
  expect(loadZtunnelConfig(["--passthrough=false"], {}).passthrough).toBe(false);
  expect(loadZtunnelConfig([], { AMBIT_PASSTHROUGH: "0" }).passthrough).toBe(false);
});

const bad: [string, string[], Record<string, string>, RegExp][] = [
  ["unknown flag", ["--nope"], {}, /unknown flag --nope/],
  ["missing value", ["--node"], {}, /--node needs a value/],
  ["bad address", ["--address", "localhost"], {}, /--address.*IP address/],
  ["non-numeric port", ["--socks-port", "abc"], {}, /--socks-port.*not a number/],
  ["port out of range", ["--hbone-port", "70000"], {}, /--hbone-port/],
  ["bad log level", ["--log-level", "loud"], {}, /--log-level/],
  ["bad env boolean", [], { AMBIT_PASSTHROUGH: "maybe" }, /AMBIT_PASSTHROUGH.*true or false/],
  ["bad trust domain", ["--trust-domain", "Bad Domain"], {}, /--trust-domain/],
  ["stray argument", ["serve"], {}, /unexpected argument/],
  ["certificate lifetime beyond 90 days (renewal timers and the CA's cap)", ["--cert-ttl", String(91 * 86400)], {}, /--cert-ttl.*at most 90 days/],
  ["empty credentials directory", ["--socks-credentials-dir", ""], {}, /--socks-credentials-dir/],
];
for (const [name, argv, env, message] of bad) {
  test(`refuses ${name}`, () => expect(() => loadZtunnelConfig(argv, env)).toThrow(message));
}

test("--help names every flag and its environment variable", () => {
  const help = ztunnelHelp();
  for (const o of Object.values(ZTUNNEL_OPTIONS)) {
    expect(help).toContain(`--${o.flag}`);
    if ("env" in o) expect(help).toContain(`$${o.env}`);
  }
});
