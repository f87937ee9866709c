import { describe, expect, test } from "bun:test";
import { type FlagSpec, flagsHelp, parseArgs } from "./args.ts";
import { UsageError } from "./errors.ts";

const TABLE: FlagSpec[] = [
  { name: "namespace", short: "n", kind: "string", help: "ns" },
  { name: "output", short: "o", kind: "string", values: ["table", "json"], default: "table", help: "format" },
  { name: "filename", short: "f", kind: "list", help: "files" },
  { name: "nodes", kind: "number", default: 2, env: "NODES", help: "n" },
  { name: "samples", kind: "boolean", default: true, help: "samples" },
];

describe("parseArgs", () => {
  const cases: [string, string[], Record<string, unknown>, string[]][] = [
    ["defaults", [], { namespace: undefined, output: "table", filename: [], nodes: 2, samples: true }, []],
    ["short and long, inline values", ["-n", "demo", "--output=json", "x"], { namespace: "demo", output: "json" }, ["x"]],
    ["repeated list", ["-f", "a.yaml", "-f", "-", "--filename=b"], { filename: ["a.yaml", "-", "b"] }, []],
    ["--no- negates a boolean", ["--no-samples"], { samples: false }, []],
    ["boolean with a value", ["--samples=false"], { samples: false }, []],
    ["numbers", ["--nodes", "3"], { nodes: 3 }, []],
    ["-- ends the flags", ["--", "-n", "--x"], { namespace: undefined }, ["-n", "--x"]],
    ["a lone - is an argument", ["-"], {}, ["-"]],
  ];
  for (const [name, argv, flags, args] of cases) {
    test(name, () => {
      const r = parseArgs(argv, TABLE);
      expect(r.flags).toMatchObject(flags);
      expect(r.args).toEqual(args);
    });
  }

  test("environment fills what the command line leaves out", () => {
    expect(parseArgs([], TABLE, { NODES: "5" }).flags.nodes).toBe(5);
    expect(parseArgs(["--nodes", "1"], TABLE, { NODES: "5" }).flags.nodes).toBe(1);
  });

  test("--help and -h are noticed anywhere", () => {
    expect(parseArgs(["x", "-h"], TABLE).help).toBe(true);
  });

  const bad: [string[], RegExp][] = [
    [["--bogus"], /unknown flag --bogus/],
    [["-z"], /unknown flag -z/],
    [["-n"], /--namespace needs a value/],
    [["-o", "xml"], /--output: "xml" is not one of table, json/],
    [["--nodes", "two"], /--nodes: "two" is not a number/],
    [["--samples=maybe"], /not true or false/],
    [["--no-namespace"], /unknown flag --no-namespace/],
  ];
  for (const [argv, message] of bad) {
    test(`usage error: ${argv.join(" ")}`, () => {
      expect(() => parseArgs(argv, TABLE)).toThrow(UsageError);
      expect(() => parseArgs(argv, TABLE)).toThrow(message);
    });
  }
});

test("flagsHelp shows every flag with its short form, values, default and environment", () => {
  const help = flagsHelp(TABLE).join("\n");
  expect(help).toContain("-n, --namespace <string>");
  expect(help).toContain("-o, --output <table|json>");
  expect(help).toContain("[default table]");
  expect(help).toContain("--nodes <number>");
  expect(help).toContain("$NODES");
  expect(help).toContain("-f, --filename <value>");
  expect(help).toContain("repeatable");
  expect(help).toContain("-h, --help");
});
