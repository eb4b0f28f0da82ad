// Qwen3: <|im_start|>role\ncontent<|im_end|>, thinking in <think>…</think>, tool calls as JSON in
// <tool_call>…</tool_call>, tool results as user turns wrapped in <tool_response>. Three
// renderers share this file:
//
// - qwen3: the hybrid models (Qwen3-8B, -32B, -30B-A3B) with thinking on. Token for token what
//   the model's own chat template writes: reasoning is kept, framed as "<think>\n…\n</think>\n\n",
//   on assistant messages after the last user query (the turn being produced, including its tool
//   calls), and dropped from earlier turns; the final assistant message always gets a block, an
//   empty one when it did not reason. Consecutive tool results share one user turn.
// - qwen3_disable_thinking: the same with thinking off: the prompt ends with the empty block
//   "<think>\n\n</think>\n\n" (the template's enable_thinking=false).
// - qwen3_instruct: the Instruct-2507 models, which have no thinking mode: no block is written;
//   thinking parts, if a conversation has any, are written inline as <think>…</think>.
//
// Where we differ from the Python cookbook on purpose: its qwen3 drops the reasoning of a tool-call
// turn that is followed by tool results; we keep it, as the model's template does.

import { RendererError } from "../errors.js";
import { pythonJson } from "../json.js";
import {
  type ContentPart,
  type Message,
  type ToolCall,
  type ToolSpec,
  textOf,
  thinkingOf,
} from "../messages.js";
import {
  MessageRenderer,
  parsed,
  type RenderContext,
  type RenderedMessage,
  singleToken,
  splitAtStop,
} from "./base.js";
import { templateArguments, toolCall, unparsed } from "./tool-calls.js";
import type { ParsedResponse } from "./types.js";

/** Options of the Qwen3 renderers. */
export interface Qwen3Options {
  /**
   * Drop the reasoning of assistant messages before the last user query, as the template does.
   * Default true. False keeps (and frames) it everywhere: prompts then extend each other, which
   * multi-turn RL wants, at the price of differing from the template.
   */
  stripThinkingFromHistory?: boolean;
}

/** Which Qwen3 renderer: thinking on (`qwen3`), off (`qwen3_disable_thinking`), or the 2507 Instruct format (`qwen3_instruct`). */
export type Qwen3Style = "thinking" | "disable_thinking" | "instruct";

function stripNewlines(text: string): string {
  return text.replace(/^\n+/, "").replace(/\n+$/, "");
}

function frame(reasoning: string): string {
  return `<think>\n${stripNewlines(reasoning)}\n</think>\n\n`;
}

const TOOL_RESPONSE = /^<tool_response>[\s\S]*<\/tool_response>$/;

/** The template's last_query_index: the last user message that is not a wrapped tool response. */
function lastQueryIndex(messages: readonly Message[]): number {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i]!;
    if (m.role === "user" && !TOOL_RESPONSE.test(textOf(m.content))) return i;
  }
  return messages.length - 1;
}

/** Reasoning and text of an assistant message, read the way the template reads them. */
function reasoningAndText(content: string | ContentPart[]): { reasoning: string; text: string } {
  if (typeof content !== "string") return { reasoning: thinkingOf(content), text: textOf(content) };
  if (!content.includes("</think>")) return { reasoning: "", text: content };
  const [before, ...after] = content.split("</think>");
  return {
    reasoning: stripNewlines(before!.split("<think>").at(-1)!),
    text: after.at(-1)!.replace(/^\n+/, ""),
  };
}

function toolCallText(call: ToolCall): string {
  return `<tool_call>\n{"name": ${JSON.stringify(call.function.name)}, "arguments": ${templateArguments(call)}}\n</tool_call>`;
}

/** The Qwen3 renderers: `qwen3`, `qwen3_disable_thinking`, `qwen3_instruct`. */
export class Qwen3Renderer extends MessageRenderer {
  protected override readonly disablesThinking: boolean;
  private readonly style: Qwen3Style;
  private readonly stripHistory: boolean;

  /** A Qwen3 renderer of `style`, encoding with `tokenizer` (a Qwen3 tokenizer). */
  constructor(
    name: string,
    tokenizer: MessageRenderer["tokenizer"],
    style: Qwen3Style,
    options: Qwen3Options = {},
  ) {
    super(name, tokenizer);
    this.style = style;
    this.disablesThinking = style === "disable_thinking";
    this.stripHistory = options.stripThinkingFromHistory ?? true;
  }

  /** True for qwen3_instruct, or when thinking is kept in history. */
  get hasExtensionProperty(): boolean {
    return this.style === "instruct" || !this.stripHistory;
  }

  private get imEnd(): number {
    return singleToken(this.tokenizer, "<|im_end|>");
  }

  protected renderMessage(message: Message, ctx: RenderContext): RenderedMessage {
    const newline = ctx.index > 0 ? "\n" : "";
    const prev = ctx.messages[ctx.index - 1];
    const next = ctx.messages[ctx.index + 1];
    if (message.role === "tool") {
      // One user turn holds a run of tool results; the last of the run closes it.
      const opens = prev?.role !== "tool";
      const closes = next?.role !== "tool";
      const body = `${opens ? "" : "\n"}<tool_response>\n${textOf(message.content)}\n</tool_response>`;
      return {
        header: opens ? this.tokenizer.encode(`${newline}<|im_start|>user\n`) : [],
        output: [...this.tokenizer.encode(this.guard(body)), ...(closes ? [this.imEnd] : [])],
      };
    }
    const header = this.tokenizer.encode(`${newline}<|im_start|>${message.role}\n`);
    if (message.role !== "assistant") {
      if (message.tool_calls?.length)
        throw new RendererError(`a ${message.role} message cannot carry tool calls`);
      return { header, output: [...this.tokenizer.encode(this.guard(textOf(message.content))), this.imEnd] };
    }
    let body = this.assistantBody(message, ctx);
    const calls = message.tool_calls ?? [];
    const text = reasoningAndText(message.content).text;
    calls.forEach((call, i) => {
      if (i > 0 || (this.style === "instruct" ? body !== "" : text !== "")) body += "\n";
      body += toolCallText(call);
    });
    return { header, output: [...this.tokenizer.encode(this.guard(body)), this.imEnd] };
  }

  private assistantBody(message: Message, ctx: RenderContext): string {
    if (this.style === "instruct") {
      if (typeof message.content === "string") return message.content;
      return message.content
        .map((p) => (p.type === "text" ? p.text : `<think>${p.thinking}</think>`))
        .join("");
    }
    const { reasoning, text } = reasoningAndText(message.content);
    // The template frames only turns after the last query; with history kept, every turn.
    const after = ctx.index > lastQueryIndex(ctx.messages);
    const last = ctx.index === ctx.messages.length - 1;
    const noUser = ctx.lastUserIndex < 0;
    const framed = this.stripHistory ? after && (last || reasoning !== "") : !noUser;
    if (!framed) return text;
    return frame(reasoning) + text.replace(/^\n+/, "");
  }

  protected override generationSuffix(ctx: RenderContext): number[] {
    const newline = ctx.index > 0 ? "\n" : "";
    const block = this.disablesThinking ? "<think>\n\n</think>\n\n" : "";
    return this.tokenizer.encode(`${newline}<|im_start|>assistant\n${block}`);
  }

  /** The `<|im_end|>` token. */
  stopSequences(): number[] {
    return [this.imEnd];
  }

  /** Thinking, text and tool calls from the tokens before `<|im_end|>`. */
  parseResponse(tokens: ArrayLike<number>): ParsedResponse {
    const { text, termination } = splitAtStop(this.tokenizer, tokens, [this.imEnd]);
    const message: Message = { role: "assistant", content: text };
    if (termination === "malformed") return parsed(message, termination);
    const parts: ContentPart[] = [];
    const calls: ToolCall[] = [];
    const failed: ReturnType<typeof unparsed>[] = [];
    const block = /<think>([\s\S]*?)<\/think>|<tool_call>([\s\S]*?)<\/tool_call>/g;
    let pos = 0;
    let afterThink = false;
    const pushText = (piece: string, beforeCall: boolean) => {
      let t = afterThink && this.style !== "instruct" ? piece.replace(/^\n+/, "") : piece;
      // The renderer puts one newline before each tool call; it is not content.
      if (beforeCall && t.endsWith("\n")) t = t.slice(0, -1);
      if (t !== "") parts.push({ type: "text", text: t });
      afterThink = false;
    };
    for (const m of text.matchAll(block)) {
      pushText(text.slice(pos, m.index), m[2] !== undefined);
      if (m[1] !== undefined) {
        const thinking = this.style === "instruct" ? m[1] : stripNewlines(m[1]);
        if (thinking !== "") parts.push({ type: "thinking", thinking });
        afterThink = true;
      } else {
        try {
          const value = JSON.parse(m[2]!) as { name?: unknown; arguments?: unknown };
          if (typeof value.name !== "string") throw new Error('no "name" string');
          calls.push(toolCall(value.name, value.arguments ?? {}));
        } catch (cause) {
          failed.push(unparsed(m[0], `invalid tool call JSON: ${(cause as Error).message}`));
        }
      }
      pos = (m.index ?? 0) + m[0].length;
    }
    pushText(text.slice(pos), false);
    const opened = text.split("<tool_call>").length - 1;
    const closed = text.split("</tool_call>").length - 1;
    if (opened > closed)
      failed.push(unparsed(text.slice(text.lastIndexOf("<tool_call>")), "unterminated tool call"));
    const hasBlocks = parts.some((p) => p.type === "thinking") || calls.length > 0 || failed.length > 0;
    message.content = hasBlocks || text.includes("<think>") ? parts : text;
    if (calls.length) message.tool_calls = calls;
    if (failed.length) message.unparsed_tool_calls = failed;
    return parsed(message, termination);
  }

  /** A system message with the tools, in the words of Qwen3's template. */
  override toolsPrefix(tools: readonly ToolSpec[], systemPrompt = ""): Message[] {
    const lines = tools.map((t) => pythonJson({ type: "function", function: t })).join("\n");
    const block =
      "# Tools\n\nYou may call one or more functions to assist with the user query.\n\n" +
      `You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n${lines}\n</tools>\n\n` +
      "For each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n" +
      '<tool_call>\n{"name": <function-name>, "arguments": <args-json-object>}\n</tool_call>';
    return [{ role: "system", content: systemPrompt ? `${systemPrompt}\n\n${block}` : block }];
  }
}
