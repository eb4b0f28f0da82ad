// The conversation types every renderer reads and writes. They follow the OpenAI chat format
// (role, content, tool_calls, tool_call_id, name) so data in that shape can be used as is, with
// one addition: content may be a list of parts, which keeps a model's reasoning ("thinking")
// apart from the text it shows, so renderers can drop, keep or frame it as each template needs.

/** Who wrote a message. `tool` carries the result of a tool call back to the model. */
export type Role = "system" | "user" | "assistant" | "tool";

/** Text meant for the reader. */
export interface TextPart {
  /** Discriminant. */
  type: "text";
  /** The text. */
  text: string;
}

/** The model's reasoning before it answers (what Qwen and DeepSeek write inside `<think>`). */
export interface ThinkingPart {
  /** Discriminant. */
  type: "thinking";
  /** The reasoning text. */
  thinking: string;
}

/** One part of a message's content. */
export type ContentPart = TextPart | ThinkingPart;

/** A request, written by the assistant, to run a tool (OpenAI's shape). */
export interface ToolCall {
  /** Always "function" when present. */
  type?: "function";
  /** An id the tool result can refer to; renderers whose format has no ids drop it. */
  id?: string;
  /** Which function to call, with what. */
  function: {
    /** The tool's name. */
    name: string;
    /** The arguments, as a JSON text (an object). */
    arguments: string;
  };
}

/** A tool call the model wrote that could not be read, kept with the reason. */
export interface UnparsedToolCall {
  /** The text as the model wrote it. */
  rawText: string;
  /** Why it could not be parsed. */
  error: string;
}

/** A tool the model may call: a name, a description, and a JSON Schema for its arguments. */
export interface ToolSpec {
  /** The tool's name. */
  name: string;
  /** What the tool does, for the model. */
  description?: string;
  /** JSON Schema of the arguments object. */
  parameters?: Record<string, unknown>;
}

/** One message of a conversation. */
export interface Message {
  /** Who wrote it. */
  role: Role;
  /** A string, or parts (text and thinking) in order. */
  content: string | ContentPart[];
  /** Assistant messages: the tools it calls, in order. */
  tool_calls?: ToolCall[];
  /** Set by `parseResponse` on tool calls the model wrote that could not be read. */
  unparsed_tool_calls?: UnparsedToolCall[];
  /** Tool messages: the id of the call this answers. */
  tool_call_id?: string;
  /** Tool messages: the name of the tool that answered (gpt-oss needs it). */
  name?: string;
  /** With `trainOn: "customized"`: whether this message's output carries loss. */
  trainable?: boolean;
}

/** The parts of `content`: a string is one text part (none when empty). */
export function contentParts(content: string | ContentPart[]): ContentPart[] {
  if (typeof content !== "string") return content;
  return content === "" ? [] : [{ type: "text", text: content }];
}

/** The text of `content` with the thinking left out. */
export function textOf(content: string | ContentPart[]): string {
  if (typeof content === "string") return content;
  return content.map((p) => (p.type === "text" ? p.text : "")).join("");
}

/** The thinking parts of `content`, concatenated ("" when there are none). */
export function thinkingOf(content: string | ContentPart[]): string {
  if (typeof content === "string") return "";
  return content.map((p) => (p.type === "thinking" ? p.thinking : "")).join("");
}

/** Whether `content` has a non-empty thinking part. */
export function hasThinking(content: string | ContentPart[]): boolean {
  return typeof content !== "string" && content.some((p) => p.type === "thinking" && p.thinking !== "");
}
