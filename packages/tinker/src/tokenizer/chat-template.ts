// Chat templates: the Jinja template a model's tokenizer_config.json ships, rendered by
// @huggingface/jinja (written for exactly these templates) with the variables Hugging Face's
// `apply_chat_template` passes: `messages`, `tools`, `documents`, `add_generation_prompt`, the
// tokenizer's special tokens (`bos_token`, `eos_token`, ...) and the caller's extra keyword
// arguments. The library is imported when a Hugging Face tokenizer loads (never at SDK import),
// so rendering itself stays synchronous.

import type { ApplyChatTemplateOptions, ChatMessage } from "./types.js";
import { ChatTemplateError } from "./types.js";

type JinjaModule = typeof import("@huggingface/jinja");
type JinjaTemplate = InstanceType<JinjaModule["Template"]>;

let jinja: JinjaModule | undefined;

/** Imports @huggingface/jinja once; later calls return at once. */
export async function loadJinja(): Promise<JinjaModule> {
  jinja ??= await import("@huggingface/jinja");
  return jinja;
}

const compiled = new Map<string, JinjaTemplate>();

function compile(source: string, tokenizer: string): JinjaTemplate {
  const cached = compiled.get(source);
  if (cached) return cached;
  if (!jinja) {
    // Only reachable for a tokenizer built without loadJinja(), i.e. a bug in this module's callers.
    throw new ChatTemplateError(`the chat template engine is not loaded for ${tokenizer}`, tokenizer);
  }
  let template: JinjaTemplate;
  try {
    template = new jinja.Template(source);
  } catch (cause) {
    throw new ChatTemplateError(
      `The chat template of ${tokenizer} does not parse: ${(cause as Error).message}`,
      tokenizer,
      { cause },
    );
  }
  compiled.set(source, template);
  return template;
}

/** What a tokenizer hands the renderer: its name, template, special-token variables and encoder. */
export interface ChatTemplateHost {
  readonly name: string;
  readonly chatTemplate: string | undefined;
  /** Why there is no template, for the error message (e.g. which package lacks it). */
  readonly missingTemplateHint: string | undefined;
  /** `bos_token`, `eos_token`, ... as strings: Hugging Face passes them to every template. */
  readonly templateTokens: Readonly<Record<string, unknown>>;
  encode(text: string): number[];
}

/** Renders `messages` for `host` as Hugging Face's apply_chat_template does; see Tokenizer.applyChatTemplate. */
export function applyChatTemplate(
  host: ChatTemplateHost,
  messages: readonly ChatMessage[],
  options: ApplyChatTemplateOptions = {},
): number[] | string {
  const { addGenerationPrompt, tools, documents, tokenize, chatTemplate, ...kwargs } = options;
  const source = chatTemplate ?? host.chatTemplate;
  if (source === undefined) {
    throw new ChatTemplateError(
      `${host.name} has no chat template${host.missingTemplateHint ? `: ${host.missingTemplateHint}` : ""}. ` +
        "Pass one with { chatTemplate: '...' } (to getTokenizer or applyChatTemplate), or build the " +
        "prompt with a renderer.",
      host.name,
    );
  }
  if (!Array.isArray(messages)) {
    throw new ChatTemplateError("applyChatTemplate needs an array of messages", host.name);
  }
  const template = compile(source, host.name);
  let text: string;
  try {
    text = template.render({
      ...host.templateTokens,
      ...kwargs,
      messages,
      // Python passes None for absent tools/documents; null keeps `tools is none` true as there.
      tools: tools ?? null,
      documents: documents ?? null,
      add_generation_prompt:
        addGenerationPrompt ?? (kwargs.add_generation_prompt as boolean | undefined) ?? false,
    });
  } catch (cause) {
    throw new ChatTemplateError(
      `The chat template of ${host.name} failed to render: ${(cause as Error).message}`,
      host.name,
      { cause },
    );
  }
  // As Hugging Face: the template writes every special token itself, so none is added on encode.
  return tokenize === false ? text : host.encode(text);
}
