// Ids that go into URL paths. The contract puts path parameters in as they are, without
// percent-encoding (1.4), so an id is checked before use instead: anything that would change which
// path the request reaches ('/', '?', '#', '%', a '.' or '..' segment, whitespace) is refused with a
// message naming the field. Colons are fine: run ids look like `<session_id>:train:<n>`.

import { ValidationError } from "../client/errors.js";

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what we refuse
const UNSAFE = /[\u0000-\u0020\u007f?#%\\]/;

/** Why `value` cannot be one URL path segment, or undefined when it can. */
export function segmentProblem(value: string): string | undefined {
  if (value === "") return "is empty";
  if (value === "." || value === "..") return `cannot be '${value}'`;
  if (value.includes("/")) return "must not contain '/'";
  const bad = UNSAFE.exec(value);
  if (bad) {
    const ch = bad[0];
    const code = ch.charCodeAt(0);
    const shown = ch === " " ? "a space" : code < 0x20 || code === 0x7f ? "a control character" : `'${ch}'`;
    return `must not contain ${shown}`;
  }
  return undefined;
}

/** Returns `value` when it is usable as one path segment; throws ValidationError naming `field`. */
export function pathSegment(value: unknown, field: string): string {
  if (typeof value !== "string") {
    throw new ValidationError(
      `${field} must be a string, got ${value === null ? "null" : typeof value}`,
      field,
    );
  }
  const problem = segmentProblem(value);
  if (problem !== undefined) {
    throw new ValidationError(`${field} ${problem}${value === "" ? "" : `: '${value}'`}`, field);
  }
  return value;
}
