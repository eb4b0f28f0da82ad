// Turning an extracted checkpoint archive into the PEFT adapter folder `push-hf` uploads: check it
// holds an adapter, make sure adapter_config.json names its base model (PEFT loaders need it), add
// a model card when there is none, and list the files to send.

import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { WeightsInfo } from "../../api/rest-schemas.js";
import { TinkerError } from "../../client/errors.js";
import { filterPaths } from "./patterns.js";

/** The archive lacks the PEFT files, so there is nothing a PEFT loader could use (exit 1). */
export class AdapterFolderError extends TinkerError {
  override name = "AdapterFolderError";
}

/** A marker some archives carry to say the upload finished; not part of the adapter. */
const COMPLETION_MARKER = "checkpoint_complete";

/** What the model card says about the checkpoint. */
export interface ModelCardFacts {
  /** The tinker:// path it came from (also how a later push recognises the repo). */
  tinkerPath: string;
  /** `namespace/name` on the Hub. */
  repoId: string;
  /** The branch, when not main. */
  revision: string | undefined;
  /** From the weights info; undefined when the server did not say. */
  info: WeightsInfo | undefined;
}

/** Throws AdapterFolderError unless `dir` has adapter_config.json and a weights file. */
export function checkAdapterFiles(dir: string): void {
  const hasConfig = existsSync(join(dir, "adapter_config.json"));
  const hasWeights =
    existsSync(join(dir, "adapter_model.safetensors")) || existsSync(join(dir, "adapter_model.bin"));
  if (!hasConfig || !hasWeights) {
    throw new AdapterFolderError(
      "the checkpoint archive holds no PEFT adapter: expected adapter_config.json and " +
        "adapter_model.safetensors (or adapter_model.bin)",
    );
  }
}

/**
 * Writes `base_model_name_or_path` into adapter_config.json when it is missing and the base model
 * is known. Leaves the file alone when it already names one, or cannot be parsed (it is uploaded
 * as it came, as the Python CLI does).
 */
export function fillBaseModel(dir: string, baseModel: string | undefined): void {
  if (baseModel === undefined) return;
  const file = join(dir, "adapter_config.json");
  let config: unknown;
  try {
    config = JSON.parse(readFileSync(file, "utf8"));
  } catch {
    return;
  }
  if (typeof config !== "object" || config === null || Array.isArray(config)) return;
  const record = config as Record<string, unknown>;
  if (typeof record.base_model_name_or_path === "string") return;
  record.base_model_name_or_path = baseModel;
  writeFileSync(file, `${JSON.stringify(record, null, 2)}\n`);
}

/** The README.md model card: Hub metadata (front matter) and how to load the adapter. */
export function modelCard(facts: ModelCardFacts): string {
  const base = facts.info?.baseModel;
  const tags = ["tinker", "peft", "lora", ...(base ? [`base_model:adapter:${base}`] : [])];
  const load = facts.revision
    ? `AutoPeftModelForCausalLM.from_pretrained("${facts.repoId}", revision="${facts.revision}")`
    : `AutoPeftModelForCausalLM.from_pretrained("${facts.repoId}")`;
  const info = facts.info;
  const details = [
    `- Base model: ${base ?? "unknown"}`,
    ...(info?.loraRank !== undefined ? [`- LoRA rank: ${info.loraRank}`] : []),
    ...(info
      ? [
          `- Adapted modules: attention=${info.trainAttn}, MLP=${info.trainMlp}, unembedding=${info.trainUnembed}`,
        ]
      : []),
  ];
  return [
    "---",
    ...(base ? [`base_model: ${base}`] : []),
    "library_name: peft",
    "tags:",
    ...tags.map((t) => `- ${t}`),
    // Unquoted, so tools that look for the tinker:// path with a plain pattern find it exactly.
    `tinker_path: ${facts.tinkerPath}`,
    "---",
    "",
    "# LoRA adapter trained with Tinker",
    "",
    `A PEFT LoRA adapter for ${base ?? "its base model"}, exported from a Tinker checkpoint.`,
    "",
    "## Loading it",
    "",
    "```python",
    "from peft import AutoPeftModelForCausalLM",
    "",
    `model = ${load}`,
    "```",
    "",
    "## Where it came from",
    "",
    "```",
    facts.tinkerPath,
    "```",
    "",
    ...details,
    "",
  ].join("\n");
}

/** Writes README.md from `modelCard` unless the archive brought one. */
export function addModelCard(dir: string, facts: ModelCardFacts): boolean {
  const file = join(dir, "README.md");
  if (existsSync(file)) return false;
  writeFileSync(file, modelCard(facts));
  return true;
}

/** The tinker:// path a model card names, if any. */
export function tinkerPathInCard(text: string): string | undefined {
  return /tinker:\/\/[^\s`"']+/.exec(text)?.[0];
}

/**
 * The files to upload, relative to the folder: all of them, filtered by the patterns. As in the
 * Python CLI, the completion marker is left out unless --allow-pattern picks the files.
 */
export function filesToUpload(
  files: readonly string[],
  allow: readonly RegExp[] | undefined,
  ignore: readonly RegExp[] | undefined,
): string[] {
  const ignoring = allow === undefined ? [...(ignore ?? []), new RegExp(`^${COMPLETION_MARKER}$`)] : ignore;
  return filterPaths(files, allow, ignoring).sort();
}
