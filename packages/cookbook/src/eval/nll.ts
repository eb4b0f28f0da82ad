// Negative log-likelihood of a held-out set under the weights being trained: a forward pass (no
// gradient, nothing changes on the server) with the cross_entropy loss, divided by the number of
// tokens that carry weight. Submitted in the training client's order, so it sees the weights after
// every step submitted before it.

import type { Datum, TrainingClient } from "tinker-ts";
import type { Message } from "../messages.js";
import { RecipeError } from "../run/errors.js";
import { messagesOf, type RenderOptions, renderConversation } from "../supervised/conversation-data.js";
import { JsonlFile } from "../supervised/jsonl-file.js";

/** Mean NLL per trained token of a fixed set of datums. */
export class NllEvaluator {
  /** Tokens that carry weight, over all datums. */
  readonly weight: number;

  /** An evaluator on `data`; `weight` is their total target weight (the tokens the NLL is over). */
  constructor(
    /** The held-out datums, scored with `cross_entropy` on every call (never trained on). */
    readonly data: readonly Datum[],
    weight: number,
  ) {
    if (data.length === 0) throw new RecipeError("the held-out set is empty");
    if (!(weight > 0)) throw new RecipeError("the held-out set has no token with weight");
    this.weight = weight;
  }

  /** An evaluator on conversations, rendered as for training. */
  static fromConversations(conversations: readonly Message[][], options: RenderOptions): NllEvaluator {
    const data: Datum[] = [];
    let weight = 0;
    for (const c of conversations) {
      for (const r of renderConversation(c, options)) {
        data.push(r.datum);
        weight += r.trainedTokens;
      }
    }
    return new NllEvaluator(data, weight);
  }

  /** An evaluator on the first `limit` records (default all) of a JSONL conversation file. */
  static fromJsonl(path: string, options: RenderOptions, limit = Number.POSITIVE_INFINITY): NllEvaluator {
    const file = JsonlFile.open(path);
    try {
      const conversations: Message[][] = [];
      for (let i = 0; i < Math.min(limit, file.length); i++)
        conversations.push(messagesOf(file.record(i), `${path}: record ${i}`));
      return NllEvaluator.fromConversations(conversations, options);
    } finally {
      file.close();
    }
  }

  /** Submits the forward pass now; the promise gives the mean NLL per trained token. */
  evaluate(training: TrainingClient): Promise<number> {
    const forward = training.forward(this.data, "cross_entropy");
    return Promise.resolve(forward).then((r) => (r.metrics["loss:sum"] ?? Number.NaN) / this.weight);
  }
}
