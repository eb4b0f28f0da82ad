// Times tinker-local's model layer: one forward+backward step, one optimizer step, and sampling.
//   node --conditions=tinker-source --import tsx bench/model-step.ts [--quick]
// Reports median milliseconds over a few repetitions after a warm-up. Compare with
// bench/model-tfjs.ts, which times the same architecture on tfjs-core (wasm and cpu backends).
import { createModel, type Datum, encode } from "tinker-local";

const quick = process.argv.includes("--quick");
const reps = quick ? 2 : 7;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

function time(fn: () => void): number {
  // Two warm-ups: V8 optimises the kernels for each new shape on the first calls.
  fn();
  fn();
  const xs: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    fn();
    xs.push(performance.now() - t0);
  }
  return median(xs);
}

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

const rows: string[] = [];
const record = (what: string, ms: number) => {
  rows.push(`| ${what} | ${ms.toFixed(1)} |`);
  console.log(`${what}: ${ms.toFixed(1)} ms`);
};

for (const [name, shapes] of [
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
] as const) {
  const model = createModel(name, { rank: 8 });
  for (const [T, B] of shapes) {
    const data = batch(T, B);
    record(
      `${name} forward_backward ${B}x${T} tokens, rank 8, all modules`,
      time(() => model.forwardBackward(data, "cross_entropy")),
    );
    record(
      `${name} forward only ${B}x${T}`,
      time(() => model.forward(data, "cross_entropy")),
    );
  }
  record(
    `${name} optim_step`,
    time(() => model.optimStep({ learning_rate: 1e-4 })),
  );
  const prompt = encode("Once upon a time");
  record(
    `${name} sample 4 x 64 tokens`,
    time(() => model.sample(prompt, { max_tokens: 64, seed: 1, stop: [] }, 4)),
  );
  const onlyHead = createModel(name, { rank: 8, train_attn: false, train_mlp: false });
  const data = batch(shapes[0][0], 1);
  record(
    `${name} forward_backward 1x${shapes[0][0]}, unembed-only LoRA`,
    time(() => onlyHead.forwardBackward(data, "cross_entropy")),
  );
}

console.log("\n| measurement | median ms |\n|---|---|");
console.log(rows.join("\n"));
