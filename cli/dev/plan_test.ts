import { expect, test } from "bun:test";
import { devPlan } from "./plan.ts";

const where = (nodes: number) => devPlan({ nodes, samples: true, stateDir: ".ambit" }).apps.map((a) => `${a.name}@${a.node}/${a.address}`);

test("nodes are node-a, node-b… on 127.0.10.1, .2…", () => {
  const plan = devPlan({ nodes: 3, samples: true, stateDir: "/s" });
  expect(plan.nodes).toEqual([
    { name: "node-a", address: "127.0.10.1" },
    { name: "node-b", address: "127.0.10.2" },
    { name: "node-c", address: "127.0.10.3" },
  ]);
  expect(plan.controlplane).toEqual({ stateDir: "/s/controlplane", devListen: "127.0.0.1:15010", listen: "127.0.0.1:15012", devUrl: "http://127.0.0.1:15010" });
  expect(plan.processFile).toBe("/s/dev.json");
});

test("the two hello versions land on different nodes whenever there are two", () => {
  expect(where(2)).toEqual(["client@node-a/127.0.20.1", "hello-v1@node-a/127.0.20.2", "hello-v2@node-b/127.0.20.3"]);
  expect(where(3)).toEqual(where(2));
  expect(where(1)).toEqual(["client@node-a/127.0.20.1", "hello-v1@node-a/127.0.20.2", "hello-v2@node-a/127.0.20.3"]);
});

test("apps get their node and address as arguments; --no-samples runs none", () => {
  const hello = devPlan({ nodes: 2, samples: true, stateDir: "." }).apps[2]!;
  expect(hello.args).toEqual(["--version", "v2", "--node", "node-b", "--address", "127.0.20.3", "--port", "8080"]);
  expect(devPlan({ nodes: 2, samples: false, stateDir: "." }).apps).toEqual([]);
});

test("only the client gets a SOCKS5 credentials file, under the state directory's socks/", () => {
  const plan = devPlan({ nodes: 2, samples: true, stateDir: "/s" });
  expect(plan.socksDir).toBe("/s/socks");
  expect(plan.apps[0]!.args.slice(0, 2)).toEqual(["--socks-credentials", "/s/socks/demo/client"]);
  expect(plan.apps.slice(1).every((a) => !a.args.includes("--socks-credentials"))).toBe(true);
});
