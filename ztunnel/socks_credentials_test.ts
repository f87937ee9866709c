// The per-workload SOCKS5 secrets: stable per node key, distinct per workload,
// files only the owner may read, one key when two ztunnels share a directory.
import { expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { SocksCredentials, socksProxyUrl } from "./socks_credentials.ts";

const client = { uid: "Kubernetes//v1/Pod/demo/client", name: "client", namespace: "demo" };
const hello = { uid: "Kubernetes//v1/Pod/demo/hello-v2", name: "hello-v2", namespace: "demo" };
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "ambit-socks-"));

test("a workload's own name and password pass; another workload's, a wrong one or a wrong name do not", () => {
  const c = SocksCredentials.open(tmp());
  expect(c.verify(client, "client", c.passwordFor(client))).toBeUndefined();
  expect(c.verify(hello, "client", c.passwordFor(client))).toContain("not this workload");
  expect(c.verify(hello, "hello-v2", c.passwordFor(client))).toContain("wrong password");
  expect(c.verify(client, "client", c.passwordFor(client).slice(1))).toContain("wrong password");
  expect(c.verify(client, "client", "")).toContain("wrong password");
});

test("the same directory gives the same passwords after a restart; another node key gives others", () => {
  const dir = tmp();
  expect(SocksCredentials.open(dir).passwordFor(client)).toBe(SocksCredentials.open(dir).passwordFor(client));
  expect(SocksCredentials.open(tmp()).passwordFor(client)).not.toBe(SocksCredentials.open(dir).passwordFor(client));
});

test("publish writes the proxy URL, mode 0600 in a 0700 directory; withdraw removes it", () => {
  const c = SocksCredentials.open(tmp());
  c.publish(client, "127.0.20.1", 15080);
  const file = c.fileFor(client);
  expect(fs.readFileSync(file, "utf8")).toBe(`socks5h://client:${c.passwordFor(client)}@127.0.20.1:15080\n`);
  expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  expect(fs.statSync(path.dirname(file)).mode & 0o777).toBe(0o700);
  expect(fs.statSync(path.join(c.dir, "node.key")).mode & 0o777).toBe(0o600);
  c.withdraw(client);
  expect(fs.existsSync(file)).toBe(false);
});

test("a node key others can read is refused", () => {
  const dir = tmp();
  SocksCredentials.open(dir);
  fs.chmodSync(path.join(dir, "node.key"), 0o644);
  expect(() => SocksCredentials.open(dir)).toThrow(/0600/);
});

test("names that could leave the directory (or are empty) get a file and username from the uid's digest", () => {
  const c = SocksCredentials.open(tmp());
  for (const name of ["../../../etc/cron.d/x", "", "..", "a/b", "Upper"]) {
    const w = { uid: `uid-${name}`, name, namespace: "../.." };
    const file = c.fileFor(w);
    expect(path.dirname(path.dirname(file))).toBe(c.dir);
    expect(path.basename(file)).toMatch(/^workload-[0-9a-f]{16}$/);
    c.publish(w, "127.0.0.1", 15080);
    expect(c.verify(w, path.basename(file), c.passwordFor(w))).toBeUndefined();
    expect(c.verify(w, name, c.passwordFor(w))).toContain("not this workload");
  }
  expect(c.fileFor(client)).toBe(path.join(c.dir, "demo", "client"));
});

test("socksProxyUrl brackets IPv6", () => {
  expect(socksProxyUrl("a", "b", "fd00::1", 15080)).toBe("socks5h://a:b@[fd00::1]:15080");
});
