// forwardBackwardCustom (contract 4.4): a loss computed on the client in two passes. A forward pass
// gives the logprobs of `target_tokens`; the user's function turns them into a loss and its
// gradient; a cross-entropy pass with weights −gradient puts exactly that gradient into the model
// (cross-entropy is −Σ w·logp, so ∂/∂logp is −w).

import { ResponseValidationError, ValidationError } from "../../client/errors.js";
import { type CheckedCallOptions, callScope } from "../../futures/call-options.js";
import { TinkerFuture } from "../../futures/future.js";
import type { ForwardBackwardOutput, WireDatum } from "../../wire/types.js";
import { chunkBatch, prepareBatch, runForwardBackward, toResult } from "./forward-backward.js";
import { toDatums } from "./params.js";
import type { Sequencer } from "./sequencer.js";
import type { CustomLossFn, CustomLossOutput, CustomLossResult, DatumLike } from "./types.js";

/** Weights for the second pass of a custom loss: cross-entropy is −Σ w·logp, so w = −∂loss/∂logp. */
export function customLossWeights(grads: ArrayLike<number>, length: number, index: number): number[] {
  if (grads === null || typeof grads !== "object" || typeof grads.length !== "number") {
    throw new ValidationError(`grads[${index}] must be an array of numbers`, `grads[${index}]`);
  }
  if (grads.length !== length) {
    throw new ValidationError(
      `grads[${index}] has ${grads.length} entries but datum ${index} has ${length} positions; give ∂loss/∂logprob for every position`,
      `grads[${index}]`,
    );
  }
  const out = new Array<number>(length);
  for (let t = 0; t < length; t++) {
    const g = grads[t];
    if (typeof g !== "number" || !Number.isFinite(g)) {
      throw new ValidationError(
        `grads[${index}][${t}] is not a finite number: ${g}`,
        `grads[${index}][${t}]`,
      );
    }
    // 0 - g, not -g: a zero gradient must give weight +0 (JSON cannot carry -0).
    out[t] = 0 - g;
  }
  return out;
}

/** Checks now, takes both passes' seq ids now, and runs the two passes in the returned future. */
export function forwardBackwardCustom(
  seq: Sequencer,
  baseModel: string | undefined,
  data: readonly DatumLike[],
  lossFn: CustomLossFn,
  options: CheckedCallOptions,
): TinkerFuture<CustomLossResult> {
  if (typeof lossFn !== "function") throw new ValidationError("lossFn must be a function", "lossFn");
  const datums = toDatums(data, "forwardBackwardCustom");
  datums.forEach((d, i) => {
    for (const key of Object.keys(d.lossFnInputs)) {
      if (key !== "target_tokens" && key !== "weights") {
        throw new ValidationError(
          `forwardBackwardCustom takes only target_tokens (and weights) as loss inputs; datum ${i} has "${key}"`,
          `data[${i}].loss_fn_inputs.${key}`,
        );
      }
    }
    if (!d.lossFnInputs.target_tokens) {
      throw new ValidationError(`datum ${i} needs target_tokens`, `data[${i}].loss_fn_inputs.target_tokens`);
    }
  });
  const lengths = datums.map((d) => d.lossFnInputs.target_tokens!.shape[0] ?? 0);
  const withWeights = (i: number, weights: number[]): WireDatum => {
    const wire = datums[i]!.toWire();
    return {
      model_input: wire.model_input,
      loss_fn_inputs: {
        target_tokens: wire.loss_fn_inputs.target_tokens!,
        weights: { data: weights, dtype: "float32", shape: [weights.length] },
      },
    };
  };
  const forwardInput = prepareBatch(
    seq.ctx,
    datums.map((_, i) => withWeights(i, new Array<number>(lengths[i]!).fill(0))),
    "cross_entropy",
    undefined,
    "forwardBackwardCustom",
    baseModel,
  );
  // Both passes take their seq ids now, so a call made after this one runs after both.
  const forwardTurns = seq.reserveChunks(forwardInput.chunks.length);
  const backwardTurns = seq.reserveChunks(forwardInput.chunks.length);
  return new TinkerFuture(
    async (handle) => {
      let forward: ForwardBackwardOutput | undefined;
      let failure: unknown;
      let computed: CustomLossOutput | undefined;
      let weights: number[][] = lengths.map((n) => new Array<number>(n).fill(0));
      try {
        forward = await runForwardBackward(
          seq,
          forwardInput,
          { lossFn: "cross_entropy", lossFnConfig: undefined, forwardOnly: true, headers: options.headers },
          forwardTurns,
          handle,
        );
        const logprobs = forward.loss_fn_outputs.map((o, i) => {
          const lp = o.logprobs;
          if (!lp) throw new ResponseValidationError(`forward result for datum ${i} has no logprobs`);
          return Float32Array.from(lp.data);
        });
        computed = await lossFn(datums, logprobs);
        if (!computed || typeof computed.loss !== "number" || !Array.isArray(computed.grads)) {
          throw new ValidationError("lossFn must return { loss: number, grads: number[][] }", "lossFn");
        }
        if (computed.grads.length !== datums.length) {
          throw new ValidationError(
            `lossFn returned ${computed.grads.length} gradients for ${datums.length} datums`,
            "grads",
          );
        }
        weights = computed.grads.map((g, i) => customLossWeights(g, lengths[i]!, i));
      } catch (error) {
        // The backward seq ids are taken: send them anyway with zero weights (no gradient), so the
        // server does not hold the calls queued behind this one waiting for the gap to fill.
        failure = error;
      }
      const backwardInput = chunkBatch(
        seq.ctx,
        weights.map((w, i) => withWeights(i, w)),
      );
      const backward = await runForwardBackward(
        seq,
        backwardInput,
        { lossFn: "cross_entropy", lossFnConfig: undefined, forwardOnly: false, headers: options.headers },
        backwardTurns,
        handle,
      );
      if (failure !== undefined) throw failure;
      const result = toResult(forward as ForwardBackwardOutput);
      const out = computed as CustomLossOutput;
      return {
        ...result,
        metrics: { ...backward.metrics, ...out.metrics, "loss:sum": out.loss },
        loss: out.loss,
      };
    },
    "forwardBackwardCustom",
    callScope(seq.ctx.signal, seq.ctx.clock, options),
  );
}
