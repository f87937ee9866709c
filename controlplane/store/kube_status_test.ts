import { expect, test } from "bun:test";
import type { Condition } from "../../config/objects.ts";
import { conditionsToWrite } from "./kube_status.ts";

const accepted = (status: "True" | "False", at?: string): Condition => ({ type: "Accepted", status, reason: status === "True" ? "Accepted" : "Invalid", message: "m", ...(at ? { lastTransitionTime: at } : {}) });

const cases: [string, Condition[] | undefined, Condition[], Condition[] | undefined][] = [
  ["nothing there yet: written, stamped now", undefined, [accepted("True")], [accepted("True", "NOW")]],
  ["already in line: nothing to write (so writing converges)", [accepted("True", "T0")], [accepted("True")], undefined],
  ["status flips: written, stamped now", [accepted("True", "T0")], [accepted("False")], [accepted("False", "NOW")]],
  ["message changes, status holds: written, keeping the transition time", [{ ...accepted("True", "T0"), message: "old" }], [accepted("True")], [accepted("True", "T0")]],
];
for (const [name, existing, computed, want] of cases) {
  test(name, () => expect(conditionsToWrite(existing, computed, "NOW")).toEqual(want));
}
