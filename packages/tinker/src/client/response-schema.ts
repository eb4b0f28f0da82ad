// What a server's answer is checked against: valibot schemas. valibot rather than zod 4, which the
// SDK used before: zod 4 loads its 64 message locales at import, about 10 MiB of every process's
// memory (RSS after `import "tinker-ts"`: 60.8 MiB with zod, 55.0 with valibot), and the SDK only needs the
// checks. A mismatch is described as "path: message; ..." in one way for every caller.

import * as v from "valibot";

/** A schema for a response: any input, `T` out. */
export type ResponseSchema<T = unknown> = v.GenericSchema<unknown, T>;

const OBJECT_TYPES = new Set(["object", "loose_object", "strict_object", "object_with_rest"]);

/** `data` as `schema` makes it, or the list of what does not fit, for the caller's error message. */
export function checkResponse<T>(
  schema: ResponseSchema<T>,
  data: unknown,
): { ok: true; value: T } | { ok: false; issues: string } {
  // valibot's object schemas take an array as an object with none of the fields; a response that
  // is an array where an object belongs is refused, as zod did (nested objects here all have a
  // required field, or only optional ones whose absence is harmless).
  if (Array.isArray(data) && OBJECT_TYPES.has(schema.type)) {
    return { ok: false, issues: "(body): Invalid type: Expected Object but received Array" };
  }
  const parsed = v.safeParse(schema, data);
  if (parsed.success) return { ok: true, value: parsed.output };
  const issues = parsed.issues.map((i) => `${v.getDotPath(i) ?? "(body)"}: ${describe(i)}`).join("; ");
  return { ok: false, issues };
}

/** valibot's message, except for an absent required field, which it words as an invalid key. */
function describe(issue: v.BaseIssue<unknown>): string {
  return issue.kind === "schema" && issue.type === "object" && issue.input === undefined
    ? "required field missing"
    : issue.message;
}
