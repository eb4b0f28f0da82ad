// Where a download lands. The archive is extracted into a temporary directory beside the target
// (same filesystem, so the final step is one rename) and moved into place only once it is complete
// and checked: a failed or aborted download leaves neither a partial target nor the temporary
// directory behind. An existing non-empty target is refused unless `force`.

import { lstat, mkdir, mkdtemp, readdir, rename, rm, rmdir } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { ValidationError } from "../client/errors.js";

export type TargetState = "absent" | "empty" | "non-empty";

/** What is at `dir` now; throws ValidationError when it is something a download cannot replace. */
export async function targetState(dir: string, force: boolean): Promise<TargetState> {
  let stat: Awaited<ReturnType<typeof lstat>>;
  try {
    stat = await lstat(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return "absent";
    throw error;
  }
  if (stat.isSymbolicLink()) {
    throw new ValidationError(
      `${dir} is a symbolic link; choose a real directory as the download target`,
      "dir",
    );
  }
  if (!stat.isDirectory()) {
    throw new ValidationError(`${dir} exists and is not a directory; choose another output directory`, "dir");
  }
  const entries = await readdir(dir);
  if (entries.length === 0) return "empty";
  if (!force) {
    throw new ValidationError(
      `${dir} already exists and is not empty; pass force: true (--force on the command line) to replace it`,
      "dir",
    );
  }
  return "non-empty";
}

/** A fresh temporary directory beside `dir`, named after it. */
export async function makeStagingDir(dir: string): Promise<string> {
  const target = resolve(dir);
  const parent = dirname(target);
  await mkdir(parent, { recursive: true });
  return mkdtemp(join(parent, `.${basename(target)}.download-`));
}

export async function removeQuietly(path: string): Promise<void> {
  await rm(path, { recursive: true, force: true }).catch(() => {});
}

/**
 * Moves the finished `staging` directory to `dir`. An empty target is replaced; a non-empty one only
 * with `force`, and then it is first moved aside so there is never a moment with a half-replaced
 * target.
 */
export async function placeStaged(staging: string, dir: string, force: boolean): Promise<void> {
  const target = resolve(dir);
  const state = await targetState(target, force);
  if (state === "absent") {
    await rename(staging, target);
    return;
  }
  if (state === "empty") {
    await rmdir(target);
    await rename(staging, target);
    return;
  }
  const aside = await mkdtemp(join(dirname(target), `.${basename(target)}.old-`));
  const old = join(aside, "previous");
  await rename(target, old);
  try {
    await rename(staging, target);
  } catch (error) {
    await rename(old, target).catch(() => {});
    await removeQuietly(aside);
    throw error;
  }
  await removeQuietly(aside);
}
