// Table tests for reading a workload's capture request from its labels and annotations.
import { expect, test } from "bun:test";
import { captureOf } from "./_capture.ts";

test.each([
  ["nothing asked", {}, {}, {}],
  ["a uid annotation", {}, { "ambit.dev/capture-uid": "2001" }, { capture: { mode: "owner", uid: 2001 } }],
  ["a uid label (WorkloadEntry)", { "ambit.dev/capture-uid": "2001" }, {}, { capture: { mode: "owner", uid: 2001 } }],
  ["the annotation wins over the label", { "ambit.dev/capture-uid": "1" }, { "ambit.dev/capture-uid": "2" }, { capture: { mode: "owner", uid: 2 } }],
  ["a network namespace", {}, { "ambit.dev/capture-netns": "pod-a" }, { capture: { mode: "namespace", netns: "pod-a" } }],
  ["root", {}, { "ambit.dev/capture-uid": "0" }, { problem: 'ambit.dev/capture-uid "0" must be a uid from 1 (root is never captured): not captured' }],
  ["not a number", {}, { "ambit.dev/capture-uid": "12a" }, { problem: 'ambit.dev/capture-uid "12a" must be a uid from 1 (root is never captured): not captured' }],
  ["too large", {}, { "ambit.dev/capture-uid": "4294967295" }, { problem: 'ambit.dev/capture-uid "4294967295" must be a uid from 1 (root is never captured): not captured' }],
  ["a bad namespace name", {}, { "ambit.dev/capture-netns": "../x y" }, { problem: 'ambit.dev/capture-netns "../x y" must be a network namespace name: not captured' }],
  ["both", { "ambit.dev/capture-netns": "a" }, { "ambit.dev/capture-uid": "5" }, { problem: "both ambit.dev/capture-uid and ambit.dev/capture-netns are set: not captured" }],
])("%s", (_, labels, annotations, want) => {
  expect(captureOf(labels, annotations)).toEqual(want as ReturnType<typeof captureOf>);
});
