// --allow-pattern / --ignore-pattern for `tinker checkpoint push-hf`, with the meaning the Python
// CLI gives them (huggingface_hub's filter, built on Python's fnmatch): '*' matches any run of
// characters, '/' included; '?' one character; '[abc]' and '[!abc]' a set; a pattern ending in
// '/' means everything under that folder. Matching is against the path inside the folder.

import { ValidationError } from "../../client/errors.js";

function toRegExp(pattern: string): RegExp {
  const glob = pattern.endsWith("/") ? `${pattern}*` : pattern;
  let source = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob.charAt(i);
    if (c === "*") source += ".*";
    else if (c === "?") source += ".";
    else if (c === "[") {
      const close = glob.indexOf("]", i + 2);
      if (close === -1) {
        source += "\\[";
        continue;
      }
      let set = glob.slice(i + 1, close);
      if (set.startsWith("!")) set = `^${set.slice(1)}`;
      source += `[${set.replace(/\\/g, "\\\\")}]`;
      i = close;
    } else source += c.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  return new RegExp(`^${source}$`, "s");
}

/** Compiles patterns, refusing empty ones (ValidationError naming the flag). */
export function compilePatterns(patterns: readonly string[] | undefined, flag: string): RegExp[] | undefined {
  if (patterns === undefined || patterns.length === 0) return undefined;
  return patterns.map((p) => {
    if (p.trim() === "") throw new ValidationError(`${flag} must not be empty`, flag);
    try {
      return toRegExp(p);
    } catch {
      throw new ValidationError(`${flag} '${p}' is not a usable pattern`, flag);
    }
  });
}

/** The paths kept: those matching an allow pattern (all, when there are none) and no ignore pattern. */
export function filterPaths(
  paths: readonly string[],
  allow: readonly RegExp[] | undefined,
  ignore: readonly RegExp[] | undefined,
): string[] {
  return paths.filter(
    (p) => (allow === undefined || allow.some((r) => r.test(p))) && !(ignore ?? []).some((r) => r.test(p)),
  );
}
