// When a generated sequence stops: on the tokenizer's stop ids (EOS and the model's others), on
// the request's stop token ids, and on its stop strings. Stop strings are matched on bytes for the
// byte-level models and on decoded text for twins (whose tokens are sub-words).
import type { ModelSpec } from "./catalog.js";
import type { StopTest } from "./generate.js";
import { endsWithStopString, type ResolvedSampling } from "./sampling.js";
import { encode } from "./tokenizer.js";
import { twinTextDecoder } from "./twins.js";

/** Tokens decoded to test stop strings: the longest stop string could span this many (4 per char). */
function tailTokens(stops: readonly string[]): number {
  return 4 * Math.max(...stops.map((s) => s.length)) + 4;
}

export function stopTest(spec: ModelSpec, s: ResolvedSampling): StopTest {
  const ids = new Set([...spec.tokenizer.stopTokenIds, ...s.stopTokens]);
  if (s.stopStrings.length === 0) return (token) => ids.has(token);
  if (spec.tokenizer.kind === "byte-level") {
    const bytes = s.stopStrings.map((text) => Uint8Array.from(encode(text)));
    return (token, generated) => ids.has(token) || endsWithStopString(generated, bytes);
  }
  const decode = twinTextDecoder(spec.name);
  const tail = tailTokens(s.stopStrings);
  return (token, generated) => {
    if (ids.has(token)) return true;
    // A match in older tokens alone would have stopped the sequence then, so any match is new.
    const text = decode(generated.slice(-tail));
    return s.stopStrings.some((stop) => text.includes(stop));
  };
}
