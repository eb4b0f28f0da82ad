// Renderers by name, as the Python cookbook names them, so configs and docs carry over.

import type { Tokenizer } from "tinker-ts";
import { RendererError } from "../errors.js";
import { DeepSeekV3Renderer } from "./deepseek-v3.js";
import { type GptOssOptions, GptOssRenderer } from "./gpt-oss.js";
import { Llama3Renderer } from "./llama3.js";
import { Qwen3Renderer } from "./qwen3.js";
import { RoleColonRenderer } from "./role-colon.js";
import type { Renderer } from "./types.js";

/** Options some renderers read; the others ignore them. */
export interface RendererOptions {
  /** gpt-oss: the date its system message states (YYYY-MM-DD); default today (UTC). */
  currentDate?: string;
  /** qwen3, qwen3_disable_thinking: keep reasoning in history (see Qwen3Options). */
  stripThinkingFromHistory?: boolean;
}

type Factory = (tokenizer: Tokenizer, options: RendererOptions) => Renderer;

const gptOss =
  (name: string, effort?: GptOssOptions["reasoningEffort"]): Factory =>
  (t, o) =>
    new GptOssRenderer(name, t, {
      ...(effort ? { reasoningEffort: effort } : {}),
      ...(o.currentDate ? { currentDate: o.currentDate } : {}),
    });

const qwen =
  (name: string, style: "thinking" | "disable_thinking" | "instruct"): Factory =>
  (t, o) =>
    new Qwen3Renderer(name, t, style, {
      ...(o.stripThinkingFromHistory !== undefined
        ? { stripThinkingFromHistory: o.stripThinkingFromHistory }
        : {}),
    });

const builtIn: Record<string, Factory> = {
  role_colon: (t) => new RoleColonRenderer("role_colon", t),
  llama3: (t) => new Llama3Renderer("llama3", t),
  qwen3: qwen("qwen3", "thinking"),
  qwen3_disable_thinking: qwen("qwen3_disable_thinking", "disable_thinking"),
  qwen3_instruct: qwen("qwen3_instruct", "instruct"),
  deepseekv3: (t) => new DeepSeekV3Renderer("deepseekv3", t, false),
  deepseekv3_disable_thinking: (t) => new DeepSeekV3Renderer("deepseekv3_disable_thinking", t, false),
  deepseekv3_thinking: (t) => new DeepSeekV3Renderer("deepseekv3_thinking", t, true),
  gpt_oss_no_sysprompt: gptOss("gpt_oss_no_sysprompt"),
  gpt_oss_low_reasoning: gptOss("gpt_oss_low_reasoning", "low"),
  gpt_oss_medium_reasoning: gptOss("gpt_oss_medium_reasoning", "medium"),
  gpt_oss_high_reasoning: gptOss("gpt_oss_high_reasoning", "high"),
};

const custom = new Map<string, Factory>();

/** Names the model registry recommends (vision and Kimi models) whose renderers are not written yet. */
const NOT_YET = new Set([
  "qwen3_vl",
  "qwen3_vl_instruct",
  "qwen3_5",
  "qwen3_5_disable_thinking",
  "kimi_k2",
  "kimi_k25",
  "kimi_k25_disable_thinking",
]);

/** The names `getRenderer` knows: the built-in ones, then registered ones. */
export function rendererNames(): string[] {
  return [...Object.keys(builtIn), ...custom.keys()];
}

/**
 * Registers a renderer under `name` (a registered name wins over a built-in one), so configs can
 * name your own format.
 */
export function registerRenderer(
  name: string,
  factory: (tokenizer: Tokenizer, options: RendererOptions) => Renderer,
): void {
  custom.set(name, factory);
}

/**
 * The renderer called `name` (e.g. `qwen3`, `llama3`, `role_colon`; see `rendererNames()`) for
 * `tokenizer`, the model's own (`await getTokenizer(model)`). Throws RendererError for an unknown
 * name.
 */
export function getRenderer(name: string, tokenizer: Tokenizer, options: RendererOptions = {}): Renderer {
  const factory = custom.get(name) ?? builtIn[name];
  if (!factory && NOT_YET.has(name))
    throw new RendererError(
      `the ${name} renderer of the Python cookbook is not in tinker-ts-cookbook yet; ` +
        "write one with registerRenderer(name, factory) (MessageRenderer does the assembly)",
    );
  if (!factory)
    throw new RendererError(`unknown renderer ${JSON.stringify(name)}; known: ${rendererNames().join(", ")}`);
  return factory(tokenizer, options);
}
