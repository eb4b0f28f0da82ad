// The machine's matrix-multiply rate next to tinker-local's forward_backward rate on `small`, in
// one run, so the ratio means something on a shared machine.
//   npm run bench -- kernels
//   node --conditions=tinker-source --import tsx bench/kernels.ts   (table only, no doc)
// The reference kernels are the tightest plain-JS loops we found for this machine (register-blocked
// C = A·Bᵀ over float64 and float32 typed arrays); WASM SIMD is not measured because it cannot be
// built from npm packages alone without a compiler toolchain dependency. forward_backward FLOPs
// come from the model's shapes (docs/models.md, "Cost of a step"), not from timing guesses.
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { createModel, type Datum, encode, MODEL_CATALOG, type ModelSpec } from "tinker-local";
import { Prng } from "../packages/tinker-local/src/model/prng.js";
import { chooseToken, resolveSamplingParams } from "../packages/tinker-local/src/model/sampling.js";
import { chooseTokenByHeap } from "../packages/tinker-local/src/model/sampling-reference.js";
import { type BenchResult, REPO_ROOT, round, runIfMain } from "./lib.js";

const REPS = 5;

type Arr = Float64Array | Float32Array;

/** out[M,N] = a[M,K]·bt[N,K]ᵀ, 4×4 blocks of sums kept in registers. */
function blocked4x4(a: Arr, M: number, K: number, bt: Arr, N: number, out: Arr): void {
  for (let i = 0; i + 3 < M; i += 4) {
    const a0 = i * K;
    const a1 = a0 + K;
    const a2 = a1 + K;
    const a3 = a2 + K;
    for (let j = 0; j + 3 < N; j += 4) {
      const b0 = j * K;
      const b1 = b0 + K;
      const b2 = b1 + K;
      const b3 = b2 + K;
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0; // biome-ignore format: block of sums
      let s20 = 0,
        s21 = 0,
        s22 = 0,
        s23 = 0,
        s30 = 0,
        s31 = 0,
        s32 = 0,
        s33 = 0;
      for (let k = 0; k < K; k++) {
        const y0 = bt[b0 + k] as number;
        const y1 = bt[b1 + k] as number;
        const y2 = bt[b2 + k] as number;
        const y3 = bt[b3 + k] as number;
        let x = a[a0 + k] as number;
        s00 += x * y0;
        s01 += x * y1;
        s02 += x * y2;
        s03 += x * y3; // biome-ignore format: one row
        x = a[a1 + k] as number;
        s10 += x * y0;
        s11 += x * y1;
        s12 += x * y2;
        s13 += x * y3;
        x = a[a2 + k] as number;
        s20 += x * y0;
        s21 += x * y1;
        s22 += x * y2;
        s23 += x * y3;
        x = a[a3 + k] as number;
        s30 += x * y0;
        s31 += x * y1;
        s32 += x * y2;
        s33 += x * y3;
      }
      let o = i * N + j;
      out[o] = s00;
      out[o + 1] = s01;
      out[o + 2] = s02;
      out[o + 3] = s03;
      o += N;
      out[o] = s10;
      out[o + 1] = s11;
      out[o + 2] = s12;
      out[o + 3] = s13;
      o += N;
      out[o] = s20;
      out[o + 1] = s21;
      out[o + 2] = s22;
      out[o + 3] = s23;
      o += N;
      out[o] = s30;
      out[o + 1] = s31;
      out[o + 2] = s32;
      out[o + 3] = s33;
    }
  }
}

/** out[M,N] = a[M,K]·bt[N,K]ᵀ, 4×2 blocks (the shape tinker-local's matmulT uses). */
function blocked4x2(a: Arr, M: number, K: number, bt: Arr, N: number, out: Arr): void {
  for (let i = 0; i + 3 < M; i += 4) {
    const a0 = i * K;
    const a1 = a0 + K;
    const a2 = a1 + K;
    const a3 = a2 + K;
    for (let j = 0; j + 1 < N; j += 2) {
      const b0 = j * K;
      const b1 = b0 + K;
      let s00 = 0,
        s01 = 0,
        s10 = 0,
        s11 = 0,
        s20 = 0,
        s21 = 0,
        s30 = 0,
        s31 = 0;
      for (let k = 0; k < K; k++) {
        const y0 = bt[b0 + k] as number;
        const y1 = bt[b1 + k] as number;
        let x = a[a0 + k] as number;
        s00 += x * y0;
        s01 += x * y1;
        x = a[a1 + k] as number;
        s10 += x * y0;
        s11 += x * y1;
        x = a[a2 + k] as number;
        s20 += x * y0;
        s21 += x * y1;
        x = a[a3 + k] as number;
        s30 += x * y0;
        s31 += x * y1;
      }
      const o = i * N + j;
      out[o] = s00;
      out[o + 1] = s01;
      out[o + N] = s10;
      out[o + N + 1] = s11;
      out[o + 2 * N] = s20;
      out[o + 2 * N + 1] = s21;
      out[o + 3 * N] = s30;
      out[o + 3 * N + 1] = s31;
    }
  }
}

/** Multiply-adds of one forward_backward over one sequence of T tokens, LoRA rank r on every module. */
export function forwardBackwardMacs(spec: ModelSpec, T: number, r: number): number {
  const { dModel: d, dMlp, nLayers } = spec;
  const V = spec.vocabSize;
  // Each linear in→out: forward x·Wᵀ; backward dx = dy·W; LoRA: x·Aᵀ, u·Bᵀ, dy·B, gB, gA, dx.
  const linear = (inp: number, out: number, needDx: boolean) =>
    T * inp * out * (needDx ? 2 : 1) + T * r * (inp + out) + T * r * (out + out + inp + (needDx ? inp : 0));
  let macs = 0;
  for (let l = 0; l < nLayers; l++) {
    macs += 4 * linear(d, d, true) + linear(d, dMlp, true) + linear(dMlp, d, true);
    // Causal attention, counting only the T(T+1)/2 (query, key) pairs that exist: forward Q·Kᵀ and
    // P·V, backward dP, dQ, dK, dV, each d multiply-adds per pair over all heads.
    macs += 6 * ((T * (T + 1)) / 2) * d;
  }
  macs += linear(d, V, true);
  return macs;
}

function randomArray(Type: typeof Float64Array | typeof Float32Array, n: number): Arr {
  const out = new Type(n);
  let s = 12345;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out[i] = s / 2 ** 32 - 0.5;
  }
  return out;
}

function gflops(flops: number, ms: number): number {
  return round(flops / (ms / 1000) / 1e9, 3);
}

function batch(seqLen: number): Datum[] {
  const toks = encode("The quick brown fox jumps over the lazy dog. ".repeat(20)).slice(0, seqLen + 1);
  return [
    {
      tokens: toks.slice(0, -1),
      lossFnInputs: { target_tokens: { dtype: "int64", data: toks.slice(1) } },
    },
  ];
}

/** The model layer before the kernel work of issue 8, for the "before" rows (same run). */
const BASELINE_REF = "f92e98b";

interface StepModel {
  forwardBackward(data: Datum[], lossFn: string): unknown;
}
type CreateModel = (name: string, lora: { rank: number }) => StepModel;

/** createModel of packages/tinker-local/src/model at `ref`, extracted with git archive; null if unavailable. */
async function baselineCreateModel(ref: string): Promise<CreateModel | null> {
  const dir = mkdtempSync(join(tmpdir(), "tinker-local-baseline-"));
  const tar = spawnSync(
    "sh",
    ["-c", `git archive ${ref} packages/tinker-local/src/model | tar -x -C "${dir}"`],
    { cwd: REPO_ROOT, stdio: ["ignore", "ignore", "pipe"] },
  );
  if (tar.status !== 0) return null;
  const url = pathToFileURL(join(dir, "packages/tinker-local/src/model/lora-model.ts")).href;
  const mod = (await import(url)) as { createModel: CreateModel };
  return mod.createModel;
}

/** CPU milliseconds (user + system) this process spent in fn: time spent waiting for a core while
 * other builds run is not counted, so rates mean "per worker", not "per wall-clock second". */
function cpuMs(fn: () => void): number {
  const start = process.cpuUsage();
  fn();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

/** Best (least) CPU time of `reps` calls of each function, run in turn so load drifts hit all alike. */
function bestOfInterleaved(fns: readonly (() => void)[], reps: number): number[] {
  for (const fn of fns) {
    fn();
    fn();
  }
  const best = fns.map(() => Number.POSITIVE_INFINITY);
  for (let r = 0; r < reps; r++) {
    fns.forEach((fn, i) => {
      best[i] = Math.min(best[i] as number, cpuMs(fn));
    });
  }
  return best;
}

/** Qwen3's vocabulary: what a twin samples over for every token. */
const TWIN_VOCAB = 151_936;
const DRAWS = 20;

/**
 * Choosing one token with top_p over a twin's vocabulary: the rank-order heap walk this replaced
 * (before) and the selection (after), on the same rows and draws. A nearly flat row is what an
 * untrained twin gives (the nucleus is most of the vocabulary); a peaked one, a trained model.
 */
function samplingRows(): BenchResult[] {
  const out: BenchResult[] = [];
  const rows = new Prng(1, 1);
  for (const [shape, spread] of [
    ["nearly flat", 0.05],
    ["peaked", 12],
  ] as const) {
    const logits = Float64Array.from({ length: TWIN_VOCAB }, () => rows.nextFloat() * spread);
    for (const [what, params] of [
      ["top_p 0.9", { top_p: 0.9, temperature: 1 }],
      ["top_k 50 + top_p 0.9", { top_k: 50, top_p: 0.9, temperature: 1 }],
    ] as const) {
      const resolved = resolveSamplingParams(params, TWIN_VOCAB);
      const draws = (choose: typeof chooseToken) => () => {
        const rng = new Prng(7, 2);
        for (let i = 0; i < DRAWS; i++) choose(logits, 0, TWIN_VOCAB, resolved, rng);
      };
      const [heapMs = 0, selectMs = 0] = bestOfInterleaved([draws(chooseTokenByHeap), draws(chooseToken)], 3);
      const label = `choose a token, ${what}, ${shape} ${TWIN_VOCAB}-token row`;
      out.push(
        {
          metric: `${label}, heap walk (before)`,
          value: round(heapMs / DRAWS, 2),
          unit: "ms/token",
          notes: `least CPU time of 3, ${DRAWS} draws each`,
        },
        {
          metric: `${label}, selection (after)`,
          value: round(selectMs / DRAWS, 2),
          unit: "ms/token",
          notes: `${round(heapMs / selectMs, 1)}x faster; same tokens (test/model-nucleus.test.ts)`,
        },
      );
    }
  }
  return out;
}

export const name = "kernels";
export const description =
  "Reference matmul GFLOP/s of this machine (blocked float64/float32 JS loops) next to forward_backward GFLOP/s on tinker-local/small before (the model layer at commit " +
  BASELINE_REF +
  ") and after, FLOPs from its shapes; one thread, every rate from the least CPU time of interleaved repetitions in one run.";

export async function run(): Promise<BenchResult[]> {
  const rows: BenchResult[] = [];
  const refs: { metric: string; flops: number; fn: () => void; float64: boolean }[] = [];
  for (const [label, Type] of [
    ["float64", Float64Array],
    ["float32", Float32Array],
  ] as const) {
    for (const [kname, kernel] of [
      ["4x4", blocked4x4],
      ["4x2", blocked4x2],
    ] as const) {
      for (const [M, K, N] of [
        [256, 128, 512],
        [256, 256, 256],
      ] as const) {
        const a = randomArray(Type, M * K);
        const b = randomArray(Type, N * K);
        const out = new Type(M * N);
        refs.push({
          metric: `reference matmul ${label} ${kname} ${M}x${K}x${N}`,
          flops: 2 * M * K * N,
          fn: () => kernel(a, M, K, b, N, out),
          float64: label === "float64",
        });
      }
    }
  }
  const small = MODEL_CATALOG.find((m) => m.name === "tinker-local/small") as ModelSpec;
  const rank = 8;
  const after = createModel(small.name, { rank });
  const createBefore = await baselineCreateModel(BASELINE_REF);
  const before = createBefore?.(small.name, { rank }) ?? null;
  const steps: { metric: string; flops: number; fn: () => void }[] = [];
  for (const T of [64, 256]) {
    const data = batch(T);
    const flops = 2 * forwardBackwardMacs(small, T, rank);
    if (before) {
      steps.push({
        metric: `small forward_backward 1x${T}, before`,
        flops,
        fn: () => before.forwardBackward(data, "cross_entropy"),
      });
    }
    steps.push({
      metric: `small forward_backward 1x${T}, after`,
      flops,
      fn: () => after.forwardBackward(data, "cross_entropy"),
    });
  }
  const all = [...refs, ...steps];
  const best = bestOfInterleaved(
    all.map((x) => x.fn),
    REPS,
  );
  const rate = (i: number) => gflops((all[i] as { flops: number }).flops, best[i] as number);
  let bestRef = 0;
  refs.forEach((r, i) => {
    const value = rate(i);
    if (r.float64) bestRef = Math.max(bestRef, value);
    rows.push({ metric: r.metric, value, unit: "GFLOP/s" });
  });
  steps.forEach((st, k) => {
    const i = refs.length + k;
    const value = rate(i);
    rows.push({
      metric: st.metric,
      value,
      unit: "GFLOP/s",
      notes: `${round(best[i] as number, 1)} ms; ${round(value / bestRef, 2)}× the best float64 reference`,
    });
  });
  if (!before)
    rows.push({ metric: `baseline ${BASELINE_REF} unavailable (no git history)`, value: 0, unit: "-" });
  rows.push(...samplingRows());
  rows[0] = {
    ...(rows[0] as BenchResult),
    notes: `least CPU time of ${REPS}, interleaved, after 2 warm-ups; one thread`,
  };
  return rows;
}

await runIfMain(import.meta.url, { name, description, run });
