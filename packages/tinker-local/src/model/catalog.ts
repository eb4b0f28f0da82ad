// The models tinker-local serves. Names are what clients pass as `base_model`.
// `tiny` is sized for the test suite, `small` for demos.
export interface ModelSpec {
  name: string;
  maxContextLength: number;
  /** Width of the residual stream. */
  dModel: number;
  nLayers: number;
  /** Attention heads; dModel must be divisible by it. */
  nHeads: number;
  /** Hidden width of the MLP (up_proj output). */
  dMlp: number;
  /** Seed of the deterministic PRNG that draws the frozen base weights. */
  baseSeed: number;
}

export const MODEL_CATALOG: readonly ModelSpec[] = [
  {
    name: "tinker-local/tiny",
    maxContextLength: 128,
    dModel: 32,
    nLayers: 2,
    nHeads: 2,
    dMlp: 128,
    baseSeed: 20_251_101,
  },
  {
    name: "tinker-local/small",
    maxContextLength: 256,
    dModel: 128,
    nLayers: 4,
    nHeads: 4,
    dMlp: 512,
    baseSeed: 20_251_102,
  },
];
