/** Config errors that name the file, object and field, shared by every config reader. @module */
export * from "./errors.ts";
export * from "./zod_problems.ts";
export * from "./objects.ts";
export * from "./flags.ts";
export * from "./intake.ts";
export * from "./kinds/mod.ts";
