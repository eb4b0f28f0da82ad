// The rule for checkpoint names, shared by the SDK (checked before a save is sent) and tinker-local
// (checked when a save arrives). A name becomes a URL path segment (`…/checkpoints/weights/<name>`)
// and a directory name, so only characters that need no percent-encoding in a path and mean nothing
// to a file system are allowed: a name with a space, `%`, `?`, `#` or `\` could be saved but never
// addressed again by the same text.

/** The characters a checkpoint name may use, as the error messages say it. */
export const CHECKPOINT_NAME_CHARACTERS = "letters, digits and . _ - ~ + = , @ : ( )";

/** Longest accepted checkpoint name. */
export const MAX_CHECKPOINT_NAME_LENGTH = 200;

const ALLOWED = /^[\p{L}\p{N}._\-~+=,@:()]$/u;

function describe(char: string): string {
  if (char === " ") return "a space";
  const code = char.codePointAt(0) ?? 0;
  if (code < 0x20 || code === 0x7f) return `a control character (U+${code.toString(16).padStart(4, "0")})`;
  return `'${char}'`;
}

/**
 * Why `name` cannot be a checkpoint name, phrased for the person who chose it; undefined when it
 * can. The rule: 1 to 200 of {@link CHECKPOINT_NAME_CHARACTERS}, and not `.` or `..`.
 */
export function checkpointNameProblem(name: string): string | undefined {
  if (name === "") return "a checkpoint name must not be empty";
  if (name === "." || name === "..") return `a checkpoint name cannot be '${name}'`;
  const chars = [...name];
  if (chars.length > MAX_CHECKPOINT_NAME_LENGTH) {
    return `a checkpoint name must be at most ${MAX_CHECKPOINT_NAME_LENGTH} characters, got ${chars.length}`;
  }
  const at = chars.findIndex((c) => !ALLOWED.test(c));
  if (at === -1) return undefined;
  return `checkpoint name ${JSON.stringify(name)} has ${describe(chars[at]!)} at position ${at + 1}; names may use ${CHECKPOINT_NAME_CHARACTERS}`;
}
