// The part every renderer shares: a conversation is rendered message by message, each message as
// a header (the role marker, never trained on except with `all_tokens`) and an output (what the
// model writes: content and end-of-turn token). The generation prompt is the same render followed
// by the header of an empty assistant message. A family file says how one message renders; this
// file assembles prompts, supervised examples and their weights from that.

import { ModelInput, type Tokenizer } from "tinker-ts";
import { RendererError } from "../errors.js";
import type { Message, ToolSpec } from "../messages.js";
import type {
  GenerationPromptOptions,
  ParsedResponse,
  Renderer,
  SupervisedExample,
  SupervisedExampleOptions,
  Termination,
  TrainOn,
} from "./types.js";

/** Where a message sits in the conversation being rendered. */
export interface RenderContext {
  /** The whole conversation being rendered. */
  readonly messages: readonly Message[];
  /** This message's index; `messages.length` for the generation prompt's empty message. */
  readonly index: number;
  /** The last message rendered (or the generation prompt's message). */
  readonly isLast: boolean;
  /** Index of the last user message, -1 when there is none. */
  readonly lastUserIndex: number;
  /** At or after the first message of the turn being produced (after the last user message). */
  readonly inLastAssistantTurn: boolean;
}

/** One message as tokens: the header (role marker) and the output (what the model writes). */
export interface RenderedMessage {
  /** Role marker and delimiters before the content; may be empty. */
  header: number[];
  /** Content and end-of-turn tokens. */
  output: number[];
  /**
   * Tokens that end the output only when this is the last message: the part of a text stop
   * sequence that is also the next message's header (role_colon's "User:").
   */
  stopOverlap?: number[];
}

/** Index after the last user message: where the turn being produced starts. */
export function turnStart(messages: readonly Message[]): number {
  let last = -1;
  messages.forEach((m, i) => {
    if (m.role === "user") last = i;
  });
  return last + 1;
}

/** The one id `text` encodes to; a RendererError when the tokenizer has no such single token. */
export function singleToken(tokenizer: Tokenizer, text: string): number {
  const ids = tokenizer.encode(text);
  if (ids.length !== 1) {
    throw new RendererError(
      `${tokenizer.name} encodes ${JSON.stringify(text)} as ${ids.length} tokens, not one: ` +
        "this tokenizer is not the one this renderer was written for",
    );
  }
  return ids[0]!;
}

/** The parsed result of a response split at one stop token. */
export interface StopSplit {
  /** Decoded text before the stop token (all of it when there is none). */
  text: string;
  /** `stop_sequence` when the stop token was found, else `malformed` (truncated). */
  termination: Termination;
}

/** Splits sampled tokens at the first of `stopTokens`; more than one stop token is a sampling mistake. */
export function splitAtStop(
  tokenizer: Tokenizer,
  tokens: ArrayLike<number>,
  stopTokens: number[],
): StopSplit {
  const list = Array.from(tokens);
  const stops = list.filter((t) => stopTokens.includes(t)).length;
  if (stops === 0) return { text: tokenizer.decode(list), termination: "malformed" };
  if (stops > 1) {
    throw new RendererError(
      `the response holds ${stops} stop tokens, but sampling should end at the first: ` +
        "pass renderer.stopSequences() as samplingParams.stop",
    );
  }
  const at = list.findIndex((t) => stopTokens.includes(t));
  return { text: tokenizer.decode(list.slice(0, at)), termination: "stop_sequence" };
}

/** Builds the `ok` of a parsed response from its termination and tool-call failures. */
export function parsed(message: Message, termination: Termination): ParsedResponse {
  const ok = termination !== "malformed" && (message.unparsed_tool_calls?.length ?? 0) === 0;
  return { message, ok, termination };
}

/**
 * A renderer assembled from per-message renders. Subclasses implement `renderMessage`,
 * `stopSequences` and `parseResponse`, and override the hooks where their template needs it.
 */
export abstract class MessageRenderer implements Renderer {
  /**
   * Whether the generation prompt closes the thinking block (tells the model not to reason).
   * Such a renderer refuses to train on a turn that reasoned: that would teach reasoning after a
   * prompt that forbids it.
   */
  protected readonly disablesThinking: boolean = false;

  /** Creates a renderer called `name` that encodes with `tokenizer`. */
  constructor(
    readonly name: string,
    readonly tokenizer: Tokenizer,
  ) {}

  #specials: RegExp | null | undefined;

  /**
   * `text` itself, when it spells none of the tokenizer's special tokens. Message text is encoded
   * with special tokens recognised (so the format's markers work), and a message that wrote
   * "<|im_end|>" would end its turn early and let data forge turns; it is refused instead.
   */
  protected guard(text: string): string {
    if (this.#specials === undefined) {
      const names = Object.keys(this.tokenizer.specialTokens);
      const escaped = names.map((n) => n.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
      this.#specials = names.length ? new RegExp(escaped.join("|")) : null;
    }
    const found = this.#specials?.exec(text);
    if (found)
      throw new RendererError(
        `message text contains ${JSON.stringify(found[0])}, a special token of ${this.tokenizer.name}: ` +
          "it would be read as the marker, not as text. Remove or escape it in the data.",
      );
    return text;
  }

  /** See Renderer.hasExtensionProperty. */
  abstract get hasExtensionProperty(): boolean;

  /** How one message renders where it sits. */
  protected abstract renderMessage(message: Message, ctx: RenderContext): RenderedMessage;

  /** See Renderer.stopSequences. */
  abstract stopSequences(): number[] | string[];

  /** See Renderer.parseResponse. */
  abstract parseResponse(tokens: ArrayLike<number>): ParsedResponse;

  /** See Renderer.toolsPrefix. The default: this format has no tool calling. */
  toolsPrefix(_tools: readonly ToolSpec[], _systemPrompt?: string): Message[] {
    throw new RendererError(`the ${this.name} renderer has no tool-calling format`);
  }

  /** Tokens before the first message (the BOS token, for formats that have one). */
  protected bosTokens(): number[] {
    return [];
  }

  /** Messages the format puts before the caller's (gpt-oss's built-in system prompt). */
  protected prepare(messages: readonly Message[]): readonly Message[] {
    return messages;
  }

  /** Tokens after the conversation that open the assistant's message: an empty message's header. */
  protected generationSuffix(ctx: RenderContext): number[] {
    return this.renderMessage({ role: "assistant", content: "" }, ctx).header;
  }

  private context(messages: readonly Message[], index: number, start: number): RenderContext {
    let lastUserIndex = -1;
    messages.forEach((m, i) => {
      if (m.role === "user") lastUserIndex = i;
    });
    return {
      messages,
      index,
      isLast: index >= messages.length - 1,
      lastUserIndex,
      inLastAssistantTurn: index >= start,
    };
  }

  /** See Renderer.buildGenerationPrompt. */
  buildGenerationPrompt(messages: readonly Message[], options: GenerationPromptOptions = {}): ModelInput {
    const all = this.prepare(messages);
    const tokens = [...this.bosTokens()];
    const start = turnStart(all);
    all.forEach((message, i) => {
      const r = this.renderMessage(message, this.context(all, i, start));
      tokens.push(...r.header, ...r.output);
    });
    tokens.push(...this.generationSuffix({ ...this.context(all, all.length, start), isLast: true }));
    if (options.prefill) tokens.push(...this.tokenizer.encode(options.prefill));
    return ModelInput.fromInts(tokens);
  }

  /** Whether a message's output carries loss under `trainOn`. */
  protected outputIsTrained(message: Message, ctx: RenderContext, trainOn: TrainOn): boolean {
    const assistant = message.role === "assistant";
    switch (trainOn) {
      case "last_assistant_message":
        return ctx.isLast && assistant;
      case "last_assistant_turn":
        return assistant && ctx.inLastAssistantTurn;
      case "all_assistant_messages":
        return assistant;
      case "all_messages":
      case "all_tokens":
        return true;
      case "all_user_and_system_messages":
        return message.role === "user" || message.role === "system";
      case "customized":
        return message.trainable === true;
      default:
        throw new RendererError(`unknown trainOn ${JSON.stringify(trainOn)}`);
    }
  }

  /** See Renderer.buildSupervisedExample. */
  buildSupervisedExample(
    messages: readonly Message[],
    options: SupervisedExampleOptions = {},
  ): SupervisedExample {
    const trainOn = options.trainOn ?? "last_assistant_message";
    messages.forEach((m, i) => {
      const marked = m.trainable !== undefined;
      if (trainOn === "customized" && !marked)
        throw new RendererError(`messages[${i}] has no "trainable" field, which trainOn "customized" needs`);
      if (trainOn !== "customized" && marked)
        throw new RendererError(
          `messages[${i}] has a "trainable" field, which only trainOn "customized" reads; remove it or use "customized"`,
        );
    });
    if (trainOn === "last_assistant_message" && messages.at(-1)?.role !== "assistant")
      throw new RendererError(
        'trainOn "last_assistant_message" needs the last message to be the assistant\'s',
      );

    const all = this.prepare(messages);
    const offset = all.length - messages.length;
    const tokens: number[] = [];
    const weights: number[] = [];
    const push = (ids: number[], weight: number) => {
      for (const id of ids) {
        tokens.push(id);
        weights.push(weight);
      }
    };
    push(this.bosTokens(), 0);
    const start = turnStart(all.slice(0, -1));
    all.forEach((message, i) => {
      const ctx = this.context(all, i, start);
      const r = this.renderMessage(message, ctx);
      // Messages the format adds itself (gpt-oss's system prompt) are never trained on.
      const own = i >= offset;
      push(r.header, own && trainOn === "all_tokens" ? 1 : 0);
      const trained = own && this.outputIsTrained(message, ctx, trainOn) ? 1 : 0;
      push(r.output, trained);
      if (ctx.isLast && r.stopOverlap) push(r.stopOverlap, trained);
    });
    this.withholdGenerationPrompt(messages, trainOn, tokens, weights);
    return { modelInput: ModelInput.fromInts(tokens), weights };
  }

  /**
   * For the choices that mean "train the turn sampling would produce", no weight on anything the
   * generation prompt already supplies. Some prompts end in a prefill (qwen3_disable_thinking's
   * empty `<think>` block, deepseekv3_thinking's `<think>`) that the message render counts as
   * output; the model must not be trained to write tokens it is always given.
   */
  private withholdGenerationPrompt(
    messages: readonly Message[],
    trainOn: TrainOn,
    tokens: number[],
    weights: number[],
  ): void {
    let boundary: number;
    if (trainOn === "last_assistant_message") boundary = messages.length - 1;
    else if (trainOn === "last_assistant_turn") boundary = turnStart(messages);
    else return;
    if (boundary < 0 || boundary >= messages.length || messages[boundary]!.role !== "assistant") return;
    const prompt = this.buildGenerationPrompt(messages.slice(0, boundary)).toInts();
    const isPrefix = prompt.length <= tokens.length && prompt.every((t, i) => tokens[i] === t);
    if (!isPrefix) {
      if (this.disablesThinking) {
        throw new RendererError(
          `${this.name} has thinking turned off: its generation prompt ends with a closed think block, and ` +
            "the trained turn does not start with it. Either the turn reasons (training it would teach the model " +
            "to reason after being told not to), or the conversation has no user message (the template then " +
            "writes no block). Use the thinking renderer of this family, remove the thinking, or add a user message.",
        );
      }
      return;
    }
    for (let i = 0; i < prompt.length; i++) weights[i] = 0;
  }
}
