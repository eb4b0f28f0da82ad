// Pure checks of sample() input (contract 4.7): the prompt, the sampling parameters, token ids
// against a known vocabulary, and the SampleRequest built from them. No I/O.

import { ValidationError } from "../../client/errors.js";
import { knownVocabSize } from "../../tokenizer/resolve.js";
import { ModelInput, type TokenInput } from "../../wire/model-input.js";
import type { SampleRequest, WireModelInput, WireSamplingParams } from "../../wire/types.js";
import { chunkLength } from "../../wire/validate.js";
import type { PromptInput, SampleOptions, SamplingParams } from "./types.js";

function toPrompt(prompt: PromptInput): ModelInput {
  if (prompt instanceof ModelInput) return prompt;
  if (typeof prompt === "object" && prompt !== null && "chunks" in prompt) return ModelInput.fromWire(prompt);
  return ModelInput.fromInts(prompt as TokenInput);
}

/** `value` as an integer >= `min`, or a ValidationError naming `field`. */
export function checkInt(value: number, field: string, min: number, what = `an integer >= ${min}`): number {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new ValidationError(`${field} must be ${what}, got ${value}`, field);
  }
  return value;
}

/** SamplingParams in their wire form, checked (contract 4.7: the three with defaults always sent). */
export function toWireSamplingParams(params: SamplingParams = {}): WireSamplingParams {
  const known = new Set(["maxTokens", "temperature", "topK", "topP", "seed", "stop"]);
  for (const key of Object.keys(params)) {
    if (!known.has(key)) {
      throw new ValidationError(
        `samplingParams.${key} is not a sampling parameter; known: ${[...known].join(", ")}`,
        `samplingParams.${key}`,
      );
    }
  }
  const out: WireSamplingParams = {
    temperature: params.temperature ?? 1,
    top_k: params.topK ?? -1,
    top_p: params.topP ?? 1,
  };
  if (!Number.isFinite(out.temperature) || out.temperature < 0) {
    throw new ValidationError(
      `samplingParams.temperature must be a number >= 0, got ${out.temperature}`,
      "samplingParams.temperature",
    );
  }
  checkInt(out.top_k, "samplingParams.topK", -1, "-1 (no limit) or an integer >= 0");
  if (!Number.isFinite(out.top_p) || out.top_p <= 0 || out.top_p > 1) {
    throw new ValidationError(
      `samplingParams.topP must be in (0, 1], got ${out.top_p}`,
      "samplingParams.topP",
    );
  }
  if (params.maxTokens !== undefined)
    out.max_tokens = checkInt(params.maxTokens, "samplingParams.maxTokens", 0);
  if (params.seed !== undefined) out.seed = checkInt(params.seed, "samplingParams.seed", 0);
  if (params.stop !== undefined) {
    const stop = params.stop;
    const ok =
      typeof stop === "string" ||
      (Array.isArray(stop) &&
        ((stop as unknown[]).every((s) => typeof s === "string") ||
          (stop as unknown[]).every((s) => typeof s === "number" && Number.isSafeInteger(s) && s >= 0)));
    if (!ok) {
      throw new ValidationError(
        "samplingParams.stop must be a string, a list of strings, or a list of token ids (integers >= 0)",
        "samplingParams.stop",
      );
    }
    out.stop = Array.isArray(stop) ? ([...stop] as string[] | number[]) : stop;
  }
  return out;
}

/** Token ids of a prompt (and stop ids) must be inside the vocabulary when the model's is known. */
export function checkTokensInVocab(
  prompt: WireModelInput,
  vocabSize: number | undefined,
  field: string,
): void {
  if (vocabSize === undefined) return;
  prompt.chunks.forEach((chunk, c) => {
    if (chunk.type !== "encoded_text") return;
    const i = chunk.tokens.findIndex((t) => t >= vocabSize);
    if (i >= 0) {
      throw new ValidationError(
        `${field}.chunks[${c}].tokens[${i}]: token ${chunk.tokens[i]} is outside the model's vocabulary [0, ${vocabSize})`,
        `${field}.chunks[${c}].tokens[${i}]`,
      );
    }
  });
}

/**
 * The checked SampleRequest of one sample() call. Its `seq_id` is a placeholder: each attempt sends
 * a copy with the next one (sample-pipeline.ts). Token ids are checked against `baseModel`'s
 * vocabulary when tinker-ts knows it.
 */
export function buildSampleRequest(
  prompt: PromptInput,
  options: SampleOptions,
  samplingSessionId: string,
  baseModel: string | undefined,
): SampleRequest {
  const known = new Set(["numSamples", "samplingParams", "includePromptLogprobs", "topkPromptLogprobs"]);
  for (const key of Object.keys(options)) {
    if (!known.has(key)) throw new ValidationError(`${key} is not a sample() option`, key);
  }
  const input = toPrompt(prompt).toWire();
  if (input.chunks.length === 0 || input.chunks.every((c) => chunkLength(c) === 0)) {
    throw new ValidationError("prompt is empty; give at least one token", "prompt");
  }
  checkTokensInVocab(input, baseModel ? knownVocabSize(baseModel) : undefined, "prompt");
  const samplingParams = toWireSamplingParams(options.samplingParams);
  const vocab = baseModel ? knownVocabSize(baseModel) : undefined;
  if (vocab !== undefined && Array.isArray(samplingParams.stop)) {
    const bad = (samplingParams.stop as unknown[]).find((s) => typeof s === "number" && s >= vocab);
    if (bad !== undefined) {
      throw new ValidationError(
        `samplingParams.stop: token ${bad} is outside the model's vocabulary [0, ${vocab})`,
        "samplingParams.stop",
      );
    }
  }
  return {
    type: "sample",
    num_samples: checkInt(options.numSamples ?? 1, "numSamples", 1),
    prompt: input,
    sampling_params: samplingParams,
    sampling_session_id: samplingSessionId,
    prompt_logprobs: options.includePromptLogprobs ?? false,
    topk_prompt_logprobs: checkInt(options.topkPromptLogprobs ?? 0, "topkPromptLogprobs", 0),
    seq_id: 0,
  };
}
