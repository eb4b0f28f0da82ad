// ModelInput as users build it. Immutable: every append returns a new value, so an input can be
// shared between requests without one call changing another's prompt. Token lists are frozen
// arrays, checked and packed into their wire bytes once (packed.ts).

import { base64Encode } from "./base64.js";
import { packTokens } from "./packed.js";
import type { ImageFormat, ModelInputChunk, WireModelInput } from "./types.js";
import {
  checkChunk,
  checkModelInput,
  checkTokens,
  chunkLength,
  failValidation,
  isPlainObject,
} from "./validate.js";

/** Token ids in any list form: an array, a typed array, or any iterable of numbers. */
export type TokenInput = ArrayLike<number> | Iterable<number>;

/** An image for {@link ModelInput.appendImage}. */
export interface ImageInit {
  /** Raw image bytes, or their standard base64. */
  data: Uint8Array | string;
  /** How the bytes are encoded. */
  format: ImageFormat;
  /** The image's token count; needed for `length` and for loss-input alignment checks. */
  expectedTokens?: number;
}

/** An image the server fetches itself, for {@link ModelInput.appendImageAssetPointer}. */
export interface ImageAssetPointerInit {
  /** A path or URL the server can read. */
  location: string;
  /** How the image at `location` is encoded. */
  format: ImageFormat;
  /** The image's token count; needed for `length`. */
  expectedTokens?: number;
}

/**
 * Checks the ids and packs them (packed.ts) in one pass: the result is a frozen array whose int32
 * wire bytes the encoder copies as they are. Typed arrays are read directly, not via Array.from.
 */
function tokensFrom(tokens: TokenInput, field: string): number[] {
  const list: ArrayLike<unknown> =
    typeof (tokens as ArrayLike<number>).length === "number"
      ? (tokens as ArrayLike<number>)
      : Array.from(tokens as Iterable<number>);
  const packed = packTokens(list);
  if (typeof packed !== "number") return packed;
  // Raises the message for the bad id; the packer only says where it is.
  checkTokens(Array.from(list), field, failValidation);
  return failValidation(`token at index ${packed} is not a token id`, `${field}[${packed}]`);
}

/** A copy of a wire chunk; text chunks get packed tokens when their ids are valid. */
function adoptChunk(chunk: unknown): unknown {
  if (!isPlainObject(chunk)) return chunk;
  if (chunk.type === "encoded_text" && Array.isArray(chunk.tokens)) {
    const packed = packTokens(chunk.tokens);
    // Invalid ids stay as they were, for checkModelInput to name.
    if (typeof packed !== "number") return { ...chunk, tokens: packed };
  }
  return { ...chunk };
}

/** Checks wire chunks and adopts copies of them, each token list walked once. */
function adoptChunks(value: unknown, path: string): ModelInputChunk[] {
  const chunks =
    isPlainObject(value) && Array.isArray(value.chunks) ? { chunks: value.chunks.map(adoptChunk) } : value;
  return checkModelInput(chunks, path, failValidation).chunks;
}

/**
 * What a model reads: a sequence of chunks (token runs, images, audio). Immutable: every
 * `append…` returns a new ModelInput. Bad tokens or chunks throw `ValidationError` when added.
 */
export class ModelInput implements WireModelInput {
  /** The chunks, in order (their wire form). */
  readonly chunks: ModelInputChunk[];

  private constructor(chunks: ModelInputChunk[]) {
    this.chunks = chunks;
  }

  /** An input with no chunks, to build on with `append…`. */
  static empty(): ModelInput {
    return new ModelInput([]);
  }

  /** One text chunk holding `tokens` (integers in [0, 2^31 − 1]). */
  static fromInts(tokens: TokenInput): ModelInput {
    return ModelInput.empty().appendInts(tokens);
  }

  /** Checks and adopts wire chunks; an unknown `type` is rejected. */
  static fromChunks(chunks: readonly ModelInputChunk[]): ModelInput {
    return new ModelInput(adoptChunks({ chunks }, "model_input"));
  }

  /**
   * A ModelInput from its wire form (returned as is when it already is one); checked like
   * `fromChunks`. `path` names it in errors.
   */
  static fromWire(wire: WireModelInput, path = "model_input"): ModelInput {
    if (wire instanceof ModelInput) return wire;
    return new ModelInput(adoptChunks(wire, path));
  }

  /** Appends tokens, extending the last chunk when it is text. */
  appendInts(tokens: TokenInput): ModelInput {
    const list = tokensFrom(tokens, "model_input.tokens");
    const last = this.chunks[this.chunks.length - 1];
    if (last?.type === "encoded_text") {
      return new ModelInput([
        ...this.chunks.slice(0, -1),
        { type: "encoded_text", tokens: tokensFrom([...last.tokens, ...list], "model_input.tokens") },
      ]);
    }
    return new ModelInput([...this.chunks, { type: "encoded_text", tokens: list }]);
  }

  /** Appends one token (see `appendInts`). */
  appendInt(token: number): ModelInput {
    return this.appendInts([token]);
  }

  /** Appends a wire chunk as is (checked; a text chunk is not merged with the one before). */
  appendChunk(chunk: ModelInputChunk): ModelInput {
    const adopted = adoptChunk(chunk);
    checkChunk(adopted, `model_input.chunks[${this.chunks.length}]`, failValidation);
    return new ModelInput([...this.chunks, adopted as ModelInputChunk]);
  }

  /** Appends an inline image chunk (bytes are base64-encoded for the wire). */
  appendImage(image: ImageInit): ModelInput {
    const data = typeof image.data === "string" ? image.data : base64Encode(image.data);
    return this.appendChunk({
      type: "image",
      data,
      format: image.format,
      ...(image.expectedTokens !== undefined ? { expected_tokens: image.expectedTokens } : {}),
    });
  }

  /** Sampling only: forward_backward cannot carry asset pointers (contract 3.1). */
  appendImageAssetPointer(pointer: ImageAssetPointerInit): ModelInput {
    return this.appendChunk({
      type: "image_asset_pointer",
      location: pointer.location,
      format: pointer.format,
      ...(pointer.expectedTokens !== undefined ? { expected_tokens: pointer.expectedTokens } : {}),
    });
  }

  /** Serialized TensorContainer bytes (contract 4.1). */
  appendDmel(dmel: Uint8Array): ModelInput {
    return this.appendChunk({ type: "dmel", dmel: base64Encode(dmel) });
  }

  /**
   * Token count: text tokens, image `expectedTokens`, dmel first dimension. Throws when an image has
   * no `expectedTokens`.
   */
  get length(): number {
    let total = 0;
    this.chunks.forEach((chunk, i) => {
      const n = chunkLength(chunk);
      if (n === undefined) {
        failValidation(
          chunk.type === "dmel"
            ? "dmel chunk header cannot be read, so its length is unknown"
            : "image chunk has no expected_tokens, so the input's length is unknown; pass expectedTokens",
          `model_input.chunks[${i}]`,
        );
      }
      total += n;
    });
    return total;
  }

  /** All tokens, when every chunk is text. */
  toInts(): number[] {
    const out: number[] = [];
    this.chunks.forEach((chunk, i) => {
      if (chunk.type !== "encoded_text") {
        failValidation(
          `is a ${chunk.type} chunk; toInts() needs text-only input`,
          `model_input.chunks[${i}]`,
        );
      }
      for (const t of chunk.tokens) out.push(t);
    });
    return out;
  }

  /** A copy in wire form (chunks copied, so later changes to it do not touch this input). */
  toWire(): WireModelInput {
    return { chunks: this.chunks.map((c) => ({ ...c })) };
  }

  /** The wire form, for `JSON.stringify`. */
  toJSON(): WireModelInput {
    return { chunks: this.chunks };
  }
}
