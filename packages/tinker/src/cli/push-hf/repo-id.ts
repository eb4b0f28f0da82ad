// Hugging Face repo ids for `tinker checkpoint push-hf`: checking one a person typed (before
// anything is sent), and deriving one from the checkpoint when none was given, as the Python CLI
// does (`tinker-<base model>-<run id>` on a branch named after the checkpoint).

import { ValidationError } from "../../client/errors.js";
import type { TinkerPath } from "../../paths/tinker-path.js";

/** The Hub's limit on a repo name (the part after the namespace). */
const MAX_NAME_LENGTH = 96;

/** A repo id split into its parts; `namespace` is undefined when the token's user is meant. */
export interface RepoId {
  /** The user or organisation; undefined for "the token's owner". */
  namespace: string | undefined;
  /** The repo name. */
  name: string;
}

// Letters, digits, '_', '-', '.', starting and ending with a letter, digit or '_' (the Hub's rule,
// as huggingface_hub checks it).
const PART = /^[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?$/;

function partProblem(part: string, what: string): string | undefined {
  if (part === "") return `the ${what} is empty`;
  if (!PART.test(part)) {
    return `the ${what} '${part}' may hold only letters, digits, '-', '_' and '.', and must start and end with a letter, digit or '_'`;
  }
  if (part.includes("--") || part.includes("..")) return `the ${what} '${part}' contains '--' or '..'`;
  return undefined;
}

/** Parses `namespace/name` or `name`; a ValidationError (exit 2) says what is wrong. */
export function parseRepoId(input: string): RepoId {
  const usage = "expected <user or org>/<name>, e.g. alice/my-lora-adapter";
  const parts = input.split("/");
  if (parts.length > 2)
    throw new ValidationError(`--repo '${input}' has more than one '/'; ${usage}`, "--repo");
  const [first = "", second] = parts;
  const namespace = second === undefined ? undefined : first;
  const name = second ?? first;
  const problem =
    (namespace !== undefined ? partProblem(namespace, "namespace") : undefined) ??
    partProblem(name, "repo name") ??
    (name.length > MAX_NAME_LENGTH
      ? `the repo name is longer than ${MAX_NAME_LENGTH} characters`
      : undefined) ??
    (name.endsWith(".git") ? "the repo name ends with '.git'" : undefined);
  if (problem !== undefined)
    throw new ValidationError(`--repo '${input}' is not a valid repo id: ${problem}; ${usage}`, "--repo");
  return { namespace, name };
}

/** `namespace/name`. */
export function formatRepoId(id: { namespace: string; name: string }): string {
  return `${id.namespace}/${id.name}`;
}

/**
 * A string made safe as a repo name or branch: other characters become '-', runs of '-' or '.'
 * collapse, and the ends lose '-', '_', '.' and spaces.
 */
export function sanitizeRepoName(value: string): string {
  return value
    .replace(/[^A-Za-z0-9_.-]/g, "-")
    .replace(/-{2,}/g, "-")
    .replace(/\.{2,}/g, ".")
    .replace(/^[-_. ]+|[-_. ]+$/g, "")
    .slice(0, MAX_NAME_LENGTH)
    .replace(/[-_. ]+$/g, "");
}

/**
 * The repo name and branch the Python CLI derives when --repo is not given: the base model's last
 * path segment and the run id for the name; the checkpoint id (`weights-0001`) for the branch
 * unless --revision names one.
 */
export function derivedTarget(
  path: TinkerPath,
  baseModel: string | undefined,
  revision: string | undefined,
): { name: string; revision: string } {
  const base = baseModel ? (baseModel.split("/").at(-1) ?? baseModel) : "adapter";
  return {
    name: sanitizeRepoName(`tinker-${base}-${path.runId}`),
    revision: revision ?? sanitizeRepoName(path.checkpointId.replace("/", "-")),
  };
}

/** Checks a --revision (a branch name); ValidationError (exit 2) when git or the Hub would refuse it. */
export function parseRevision(input: string): string {
  const bad =
    input === "" ||
    !/^[A-Za-z0-9._/-]+$/.test(input) ||
    input.startsWith("-") ||
    input.startsWith("/") ||
    input.endsWith("/") ||
    input.endsWith(".lock") ||
    input.includes("..") ||
    input.includes("//");
  if (bad) {
    throw new ValidationError(
      `--revision '${input}' is not a usable branch name: use letters, digits, '.', '_', '-' and '/', ` +
        "not starting with '-' or '/', without '..'",
      "--revision",
    );
  }
  return input;
}
