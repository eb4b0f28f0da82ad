// What a server's answer is checked against: valibot schemas. valibot rather than zod 4, which the
// SDK used before: zod 4 loads its 64 message locales at import, about 10 MiB of every process's
// memory (RSS after `import "tinker-ts"`: 60.8 MiB with zod, 55.0 with valibot), and the SDK only needs the
// checks. A mismatch is described as "path: message; ..." in one way for every caller.

import * as v from "valibot";
import { ResponseValidationError } from "./errors.js";

/** A schema for a response: any input, `T` out. */
export type ResponseSchema<T = unknown> = v.GenericSchema<unknown, T>;

const OBJECT_TYPES = new Set(["object", "loose_object", "strict_object", "object_with_rest"]);

/**
 * `data` as `schema` makes it. A mismatch is a ResponseValidationError reading
 * "`what`: path: message; ...", so every caller names the response in its own words.
 */
export function parseResponse<T>(schema: ResponseSchema<T>, data: unknown, what: string): T {
  // valibot's object schemas take an array as an object with none of the fields; a response that
  // is an array where an object belongs is refused, as zod did (nested objects here all have a
  // required field, or only optional ones whose absence is harmless).
  if (Array.isArray(data) && OBJECT_TYPES.has(schema.type)) {
    throw new ResponseValidationError(`${what}: (body): Invalid type: Expected Object but received Array`);
  }
  const parsed = v.safeParse(schema, data);
  if (parsed.success) return parsed.output;
  const issues = parsed.issues.map((i) => `${v.getDotPath(i) ?? "(body)"}: ${describe(i)}`).join("; ");
  throw new ResponseValidationError(`${what}: ${issues}`);
}

/** valibot's message, except for an absent required field, which it words as an invalid key. */
function describe(issue: v.BaseIssue<unknown>): string {
  return issue.kind === "schema" && issue.type === "object" && issue.input === undefined
    ? "required field missing"
    : issue.message;
}
