// One conversation, as many supervised examples as its renderer needs. A renderer with the
// extension property writes every turn the same wherever it sits, so one sequence trains all the
// assistant's replies. One without it (qwen3 drops old reasoning) writes an earlier reply
// differently as history than as the turn being produced; each reply then gets an example of its
// own, ending at it, with exactly the context it was sampled from.

import { RendererError } from "./errors.js";
import type { Message } from "./messages.js";
import { turnStart } from "./renderers/base.js";
import type { Renderer, SupervisedExample, TrainOn } from "./renderers/types.js";

/** Options of `buildSupervisedExamples`. */
export interface SupervisedExamplesOptions {
  /** Which tokens carry loss; default `last_assistant_turn`. */
  trainOn?: TrainOn;
}

/**
 * The supervised examples of `messages`: one when `renderer.hasExtensionProperty` (or only the
 * last message is trained), else one per trained assistant message, each ending at that message
 * and trained on it alone. Without the extension property only the choices that train assistant
 * turns can be split; the others throw RendererError.
 */
export function buildSupervisedExamples(
  renderer: Renderer,
  messages: readonly Message[],
  options: SupervisedExamplesOptions = {},
): SupervisedExample[] {
  const trainOn = options.trainOn ?? "last_assistant_turn";
  if (renderer.hasExtensionProperty || trainOn === "last_assistant_message")
    return [renderer.buildSupervisedExample(messages, { trainOn })];
  let first: number;
  if (trainOn === "last_assistant_turn") first = turnStart(messages);
  else if (trainOn === "all_assistant_messages") first = 0;
  else
    throw new RendererError(
      `${renderer.name} rewrites history, so trainOn "${trainOn}" cannot be split into one example per turn; ` +
        'use "last_assistant_message", "last_assistant_turn" or "all_assistant_messages"',
    );
  const examples: SupervisedExample[] = [];
  for (let i = first; i < messages.length; i++) {
    if (messages[i]!.role !== "assistant") continue;
    examples.push(
      renderer.buildSupervisedExample(messages.slice(0, i + 1), { trainOn: "last_assistant_message" }),
    );
  }
  return examples;
}
