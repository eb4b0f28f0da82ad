// The models tinker-local serves. Names are what clients pass as `base_model`.
// `tiny` is sized for the test suite, `small` for demos.
export interface ModelSpec {
  name: string;
  maxContextLength: number;
}

export const MODEL_CATALOG: readonly ModelSpec[] = [
  { name: "tinker-local/tiny", maxContextLength: 128 },
  { name: "tinker-local/small", maxContextLength: 256 },
];
