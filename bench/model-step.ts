// Times tinker-local's model layer directly (no HTTP): forward+backward, forward only, the optimizer
// step and sampling, on tinker-local/tiny and tinker-local/small.
//   npm run bench -- model-step
//   node --conditions=tinker-source --import tsx bench/model-step.ts   (table only, no doc)
// Reports the median over a few repetitions after two warm-up calls.
import { createModel, type Datum, encode } from "tinker-local";
import { type BenchResult, median, runIfMain, timeSync } from "./lib.js";

const REPS = 7;

function batch(seqLen: number, count: number): Datum[] {
  const text = "The quick brown fox jumps over the lazy dog. ".repeat(20);
  return Array.from({ length: count }, (_, i) => {
    const toks = encode(text).slice(i, i + seqLen + 1);
    return {
      tokens: toks.slice(0, -1),
      lossFnInputs: {
        target_tokens: { dtype: "int64", data: toks.slice(1) },
        weights: { dtype: "float32", data: toks.slice(1).map(() => 1) },
      },
    };
  });
}

/** [sequence length, batch size] pairs per model: one long sequence and a batch of short ones. */
const SHAPES = [
  [
    "tinker-local/tiny",
    [
      [128, 1],
      [32, 8],
    ],
  ],
  [
    "tinker-local/small",
    [
      [256, 1],
      [64, 8],
    ],
  ],
] as const;

export const name = "model-step";
export const description =
  "The model layer called directly (no HTTP): one step of each kind on tiny and small, cross-entropy loss, float64.";

export async function run(): Promise<BenchResult[]> {
  const rows: BenchResult[] = [];
  const record = (metric: string, fn: () => void, notes?: string) => {
    const value = median(timeSync(fn, REPS));
    rows.push({ metric, value, unit: "ms", ...(notes === undefined ? {} : { notes }) });
  };
  for (const [modelName, shapes] of SHAPES) {
    const short = modelName.replace("tinker-local/", "");
    const model = createModel(modelName, { rank: 8 });
    for (const [T, B] of shapes) {
      const data = batch(T, B);
      record(
        `${short} forward_backward ${B}x${T}`,
        () => model.forwardBackward(data, "cross_entropy"),
        "LoRA rank 8 on every module",
      );
      record(`${short} forward only ${B}x${T}`, () => model.forward(data, "cross_entropy"));
    }
    record(`${short} optim_step`, () => model.optimStep({ learning_rate: 1e-4 }));
    const prompt = encode("Once upon a time");
    record(`${short} sample 4 x 64 tokens`, () =>
      model.sample(prompt, { max_tokens: 64, seed: 1, stop: [] }, 4),
    );
    const onlyHead = createModel(modelName, { rank: 8, train_attn: false, train_mlp: false });
    const data = batch(shapes[0][0], 1);
    record(
      `${short} forward_backward 1x${shapes[0][0]}, unembed-only LoRA`,
      () => onlyHead.forwardBackward(data, "cross_entropy"),
      "LoRA on the unembedding only",
    );
  }
  rows[0] = { ...rows[0]!, notes: `${rows[0]!.notes}; every row: median of ${REPS} after 2 warm-ups` };
  return rows;
}

await runIfMain(import.meta.url, { name, description, run });
