// llama3: Meta's Llama 3 Instruct format,
//   <|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|>...
// Deliberate differences from Meta's template: no "Cutting Knowledge Date" system header (add one
// yourself when you want it), and content is written as given where the template trims it
// (training data keeps its exact whitespace). There is no tool calling: Llama 3 writes tool calls
// as bare JSON, which cannot be told apart from an answer that is JSON.

import { RendererError } from "../errors.js";
import { type Message, textOf } from "../messages.js";
import {
  MessageRenderer,
  parsed,
  type RenderContext,
  type RenderedMessage,
  singleToken,
  splitAtStop,
} from "./base.js";
import type { ParsedResponse } from "./types.js";

/** The `llama3` renderer, for Llama 3.x Instruct models. */
export class Llama3Renderer extends MessageRenderer {
  /** Nothing in history is rewritten. */
  get hasExtensionProperty(): boolean {
    return true;
  }

  private get eot(): number {
    return singleToken(this.tokenizer, "<|eot_id|>");
  }

  protected override bosTokens(): number[] {
    return [singleToken(this.tokenizer, "<|begin_of_text|>")];
  }

  protected renderMessage(message: Message, _ctx: RenderContext): RenderedMessage {
    if (message.tool_calls?.length)
      throw new RendererError(
        "the llama3 renderer has no tool-call format (Llama 3 writes them as bare JSON)",
      );
    // The role name as given (the template writes it so), then the blank line before content.
    return {
      header: this.tokenizer.encode(`<|start_header_id|>${message.role}<|end_header_id|>\n\n`),
      output: [...this.tokenizer.encode(this.guard(textOf(message.content))), this.eot],
    };
  }

  /** The `<|eot_id|>` token. */
  stopSequences(): number[] {
    return [this.eot];
  }

  /** The text before `<|eot_id|>`; none is a truncated (`malformed`) response. */
  parseResponse(tokens: ArrayLike<number>): ParsedResponse {
    const { text, termination } = splitAtStop(this.tokenizer, tokens, [this.eot]);
    return parsed({ role: "assistant", content: text }, termination);
  }
}
