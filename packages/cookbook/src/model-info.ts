// What is known about each model of the hosted lineup: who makes it, its size, whether it is a
// chat model or a base model, whether it reads images, and which renderers fit it (best first).
// Training code uses this to pick defaults; a wrong renderer trains on a format the model never
// saw, which degrades it silently. The attributes follow the Python cookbook's model_info.

import { RendererError } from "./errors.js";

/** Facts about one model. */
export interface ModelInfo {
  /** The full name, e.g. "Qwen/Qwen3-8B". */
  name: string;
  /** Who publishes it, e.g. "Qwen", "meta-llama". */
  organization: string;
  /** The family version, e.g. "3.1". */
  version: string;
  /** Parameters, e.g. "8B", or "30B-A3B" for 30B total with 3B active. */
  size: string;
  /** Tuned for chat (instruct); false for base models, which take role_colon. */
  isChat: boolean;
  /** Reads images (vision-language). */
  isVl: boolean;
  /** Renderer names that fit, best first. */
  recommendedRenderers: readonly string[];
}

type Row = [
  model: string,
  version: string,
  size: string,
  isChat: boolean,
  renderers: readonly string[],
  isVl?: boolean,
];

const LLAMA3 = ["llama3"];
const ROLE_COLON = ["role_colon"];
const QWEN3 = ["qwen3", "qwen3_disable_thinking"];
const QWEN3_INSTRUCT = ["qwen3_instruct"];
const QWEN3_VL_INSTRUCT = ["qwen3_vl_instruct"];
const QWEN3_5 = ["qwen3_5", "qwen3_5_disable_thinking"];
const DEEPSEEKV3 = ["deepseekv3", "deepseekv3_thinking"];
const GPT_OSS = ["gpt_oss_no_sysprompt", "gpt_oss_medium_reasoning"];

const lineup: Record<string, Row[]> = {
  "meta-llama": [
    ["Llama-3.1-8B-Instruct", "3.1", "8B", true, LLAMA3],
    ["Llama-3.3-70B-Instruct", "3.3", "70B", true, LLAMA3],
    ["Llama-3.2-1B", "3.2", "1B", false, ROLE_COLON],
    ["Llama-3.2-3B", "3.2", "3B", false, ROLE_COLON],
    ["Llama-3.1-8B", "3.1", "8B", false, ROLE_COLON],
    ["Llama-3.1-70B", "3.1", "70B", false, ROLE_COLON],
  ],
  Qwen: [
    ["Qwen3-8B", "3", "8B", true, QWEN3],
    ["Qwen3-32B", "3", "32B", true, QWEN3],
    ["Qwen3-30B-A3B", "3", "30B-A3B", true, QWEN3],
    ["Qwen3-8B-Base", "3", "8B", false, ROLE_COLON],
    ["Qwen3-30B-A3B-Base", "3", "30B-A3B", false, ROLE_COLON],
    ["Qwen3-4B-Instruct-2507", "3", "4B", true, QWEN3_INSTRUCT],
    ["Qwen3-30B-A3B-Instruct-2507", "3", "30B-A3B", true, QWEN3_INSTRUCT],
    ["Qwen3-235B-A22B-Instruct-2507", "3", "235B-A22B", true, QWEN3_INSTRUCT],
    ["Qwen3-VL-30B-A3B-Instruct", "3", "30B-A3B", true, QWEN3_VL_INSTRUCT, true],
    ["Qwen3-VL-235B-A22B-Instruct", "3", "235B-A22B", true, QWEN3_VL_INSTRUCT, true],
    ["Qwen3.5-4B", "3.5", "4B", true, QWEN3_5, true],
    ["Qwen3.5-9B", "3.5", "9B", true, QWEN3_5, true],
    ["Qwen3.5-27B", "3.5", "27B", true, QWEN3_5, true],
    ["Qwen3.5-35B-A3B", "3.5", "35B-A3B", true, QWEN3_5, true],
    ["Qwen3.5-397B-A17B", "3.5", "397B-A17B", true, QWEN3_5, true],
  ],
  "deepseek-ai": [
    ["DeepSeek-V3.1", "3", "671B-A37B", true, DEEPSEEKV3],
    ["DeepSeek-V3.1-Base", "3", "671B-A37B", false, ROLE_COLON],
  ],
  openai: [
    ["gpt-oss-20b", "1", "21B-A3.6B", true, GPT_OSS],
    ["gpt-oss-120b", "1", "117B-A5.1B", true, GPT_OSS],
  ],
  moonshotai: [
    ["Kimi-K2-Thinking", "K2", "1T-A32B", true, ["kimi_k2"]],
    ["Kimi-K2.5", "K2.5", "1T-A32B", true, ["kimi_k25", "kimi_k25_disable_thinking"], true],
  ],
};

const byName = new Map<string, ModelInfo>();
for (const [organization, rows] of Object.entries(lineup)) {
  for (const [model, version, size, isChat, renderers, isVl] of rows) {
    const name = `${organization}/${model}`;
    byName.set(
      name,
      Object.freeze({
        name,
        organization,
        version,
        size,
        isChat,
        isVl: isVl ?? false,
        recommendedRenderers: renderers,
      }),
    );
  }
}

/** Every model the registry knows (tinker-local's byte-level models excepted), in lineup order. */
export function listModels(): ModelInfo[] {
  return [...byName.values()];
}

/**
 * Facts about `model`: a hosted name ("Qwen/Qwen3-8B", also with a ":checkpoint" suffix) or a
 * tinker-local model ("tinker-local/small": a byte-level base model). Throws RendererError for a
 * name it does not know.
 */
export function getModelInfo(model: string): ModelInfo {
  const name = model.split(":", 1)[0]!;
  const known = byName.get(name);
  if (known) return known;
  if (name.startsWith("tinker-local/")) {
    return {
      name,
      organization: "tinker-local",
      version: "0",
      size: name.slice("tinker-local/".length),
      isChat: false,
      isVl: false,
      recommendedRenderers: ROLE_COLON,
    };
  }
  throw new RendererError(
    `unknown model ${JSON.stringify(model)}: the registry knows ${listModels()
      .map((m) => m.name)
      .join(", ")} and tinker-local/*; name a renderer yourself with getRenderer(name, tokenizer)`,
  );
}

/** The best-fitting renderer name for `model` (the first of `getModelInfo(model).recommendedRenderers`). */
export function recommendedRenderer(model: string): string {
  return getModelInfo(model).recommendedRenderers[0]!;
}
