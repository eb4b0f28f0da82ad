// Shared by the model-*.test.ts files: datum builders and adapter randomisation.
import { type Datum, encode, type LoraModel, readSafetensors, writeSafetensors } from "tinker-local";
import { Prng } from "../src/model/prng.js";

export const TINY = "tinker-local/tiny";

/** Next-token cross-entropy datum over a token sequence: predicts tokens[1..] from tokens[..-1]. */
export function ceDatum(seq: readonly number[] | string, weights?: readonly number[]): Datum {
  const toks = typeof seq === "string" ? encode(seq) : [...seq];
  const targets = toks.slice(1);
  return {
    tokens: toks.slice(0, -1),
    lossFnInputs: {
      target_tokens: { dtype: "int64", data: targets },
      weights: { dtype: "float32", data: weights ?? targets.map(() => 1) },
    },
  };
}

export function rlDatum(
  seq: readonly number[],
  samplerLogprobs: readonly number[],
  advantages: readonly number[],
): Datum {
  return {
    tokens: seq.slice(0, -1),
    lossFnInputs: {
      target_tokens: { dtype: "int64", data: seq.slice(1) },
      logprobs: { dtype: "float32", data: samplerLogprobs },
      advantages: { dtype: "float32", data: advantages },
    },
  };
}

export function randomTokens(rng: Prng, n: number, vocab = 256): number[] {
  return Array.from({ length: n }, () => rng.nextUint32() % vocab);
}

/** Replaces every adapter tensor with uniform noise (A within ±aScale, B within ±bScale). */
export function randomizeAdapter(model: LoraModel, seed: number, aScale = 0.2, bScale = 0.05): void {
  const { metadata, tensors } = readSafetensors(model.saveWeights());
  const rng = new Prng(seed);
  const list = [...tensors].map(([name, t]) => ({
    name,
    dtype: "F32" as const,
    shape: t.shape,
    data: Array.from(t.data, () => rng.uniform(name.includes("lora_A") ? aScale : bScale)),
  }));
  model.loadWeights(writeSafetensors(list, metadata));
}

export function logprobsOf(model: LoraModel, datum: Datum): Float32Array {
  const out = model.forward([datum], "cross_entropy").lossFnOutputs[0];
  if (!out) throw new Error("no output");
  return out.logprobs.data;
}

export { Prng };
