// The frozen base weights of a catalog model, drawn from its fixed seed. They are built once per
// process and shared by every model object of that name: nothing ever writes to them.
import type { ModelSpec } from "./catalog.js";
import { transpose } from "./kernels.js";
import { Prng } from "./prng.js";

/** A linear map y = x·Wᵀ with W stored [out, in] (the torch layout); Wᵀ kept for backward. */
export interface LinearWeight {
  readonly out: number;
  readonly in: number;
  readonly w: Float64Array;
  readonly wt: Float64Array;
}

export interface LayerWeights {
  readonly q: LinearWeight;
  readonly k: LinearWeight;
  readonly v: LinearWeight;
  readonly o: LinearWeight;
  readonly up: LinearWeight;
  readonly down: LinearWeight;
}

export interface BaseWeights {
  readonly spec: ModelSpec;
  readonly vocabSize: number;
  /** [vocab, dModel] */
  readonly embed: Float64Array;
  /** Learned absolute positions, [maxContextLength, dModel]; null for sinusoidal positions. */
  readonly pos: Float64Array | null;
  readonly layers: readonly LayerWeights[];
  /** Unembedding, [vocab, dModel] (the embedding itself when the spec ties them). */
  readonly head: LinearWeight;
}

/**
 * Row `p` of the sinusoidal position table (std 0.25: below a tied embedding's, so token identity dominates the input): computed,
 * so a twin's 32k-token context costs no memory. Even columns sin, odd columns cos.
 */
export function sinusoidalPosition(p: number, d: number, out: Float64Array, off: number): void {
  for (let c = 0; c < d; c += 2) {
    const angle = p / 10_000 ** (c / d);
    out[off + c] = (out[off + c] as number) + 0.25 * Math.SQRT2 * Math.sin(angle);
    if (c + 1 < d) out[off + c + 1] = (out[off + c + 1] as number) + 0.25 * Math.SQRT2 * Math.cos(angle);
  }
}

const cache = new Map<string, BaseWeights>();

export function baseWeightsFor(spec: ModelSpec): BaseWeights {
  const hit = cache.get(spec.name);
  if (hit) return hit;
  const built = buildBaseWeights(spec);
  cache.set(spec.name, built);
  return built;
}

function buildBaseWeights(spec: ModelSpec): BaseWeights {
  const { dModel: d, dMlp, nLayers, maxContextLength } = spec;
  if (d % spec.nHeads !== 0) throw new Error(`${spec.name}: dModel ${d} not divisible by nHeads`);
  let stream = 0;
  // Each tensor has its own PRNG stream, so changing one size never reshuffles the others.
  const draw = (n: number, std: number): Float64Array => {
    const rng = new Prng(spec.baseSeed, stream++);
    const limit = std * Math.sqrt(3); // uniform with the requested standard deviation
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = Math.fround(rng.uniform(limit));
    return out;
  };
  const linear = (out: number, inp: number, std: number): LinearWeight => {
    const w = draw(out * inp, std);
    return { out, in: inp, w, wt: transpose(w, out, inp) };
  };
  const V = spec.vocabSize;
  // Tied tables are drawn at the unembedding's scale (logits of std ~2 against RMS-normed x); the
  // block's RMSNorm makes the smaller input scale harmless.
  const embed = draw(V * d, spec.tiedEmbeddings ? 2 / Math.sqrt(d) : 1);
  const pos = spec.positions === "learned" ? draw(maxContextLength * d, 0.5) : null;
  // Residual branches are scaled down with depth so the stream stays O(1) at the top.
  const branch = 1 / Math.sqrt(2 * nLayers);
  const layers: LayerWeights[] = [];
  for (let l = 0; l < nLayers; l++) {
    layers.push({
      q: linear(d, d, 1 / Math.sqrt(d)),
      k: linear(d, d, 1 / Math.sqrt(d)),
      v: linear(d, d, 1 / Math.sqrt(d)),
      o: linear(d, d, branch / Math.sqrt(d)),
      up: linear(dMlp, d, 1 / Math.sqrt(d)),
      down: linear(d, dMlp, branch / Math.sqrt(dMlp)),
    });
  }
  const head = spec.tiedEmbeddings
    ? { out: V, in: d, w: embed, wt: transpose(embed, V, d) }
    : linear(V, d, 2 / Math.sqrt(d));
  return { spec, vocabSize: V, embed, pos, layers, head };
}
