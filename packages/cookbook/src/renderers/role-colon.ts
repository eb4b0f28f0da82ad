// role_colon: "User: hi\n\nAssistant: hello\n\n", for base models (and for tokenizers with no chat
// template, like tinker-local's byte-level one). The assistant's turn ends when the model writes
// "\n\nUser:", so that string is the stop sequence; the "User:" part is also the next message's
// header, and is trained on only at the end of the last message (the stop overlap).

import { RendererError } from "../errors.js";
import { type Message, textOf } from "../messages.js";
import { MessageRenderer, parsed, type RenderContext, type RenderedMessage } from "./base.js";
import type { ParsedResponse } from "./types.js";

const PREFIX = " ";
const SUFFIX = "\n\n";
const STOP = "\n\nUser:";

function capitalized(role: string): string {
  return role.charAt(0).toUpperCase() + role.slice(1);
}

/** The `role_colon` renderer: plain "Role: content" lines, for base models. */
export class RoleColonRenderer extends MessageRenderer {
  /** Nothing in history is rewritten. */
  get hasExtensionProperty(): boolean {
    return true;
  }

  protected override bosTokens(): number[] {
    return this.tokenizer.bosTokenId === undefined ? [] : [this.tokenizer.bosTokenId];
  }

  protected renderMessage(message: Message, _ctx: RenderContext): RenderedMessage {
    if (message.tool_calls?.length) throw new RendererError("the role_colon format has no tool calls");
    const header = this.tokenizer.encode(`${capitalized(message.role)}:`);
    const output = this.tokenizer.encode(PREFIX + textOf(message.content) + SUFFIX);
    return {
      header,
      output,
      ...(message.role === "assistant" ? { stopOverlap: this.tokenizer.encode("User:") } : {}),
    };
  }

  /** The string "\n\nUser:": the model starting the next user turn. */
  stopSequences(): string[] {
    return [STOP];
  }

  /**
   * Text up to "\n\nUser:". Ending with EOS instead is clean too (a base model may stop there);
   * no end at all, or both, is `malformed`.
   */
  parseResponse(tokens: ArrayLike<number>): ParsedResponse {
    let list = Array.from(tokens);
    const eos = this.tokenizer.eosTokenId;
    const endedWithEos = eos !== undefined && list.length > 0 && list.at(-1) === eos;
    if (endedWithEos) list = list.slice(0, -1);
    const pieces = this.tokenizer.decode(list).split(STOP);
    let content = pieces[0]!;
    if (content.startsWith(PREFIX)) content = content.slice(PREFIX.length);
    if (content.endsWith(SUFFIX)) content = content.slice(0, -SUFFIX.length);
    const message: Message = { role: "assistant", content };
    if (pieces.length === 1) return parsed(message, endedWithEos ? "eos" : "malformed");
    return parsed(message, pieces.length === 2 && !endedWithEos ? "stop_sequence" : "malformed");
  }
}
