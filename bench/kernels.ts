// The machine's matrix-multiply rate next to tinker-local's forward_backward rate on `small`, in
// one run, so the ratio means something on a shared machine.
//   npm run bench -- kernels
//   node --conditions=tinker-source --import tsx bench/kernels.ts   (table only, no doc)
// The reference kernels are the tightest plain-JS loops we found for this machine (register-blocked
// C = A·Bᵀ over float64 and float32 typed arrays); WASM SIMD is not measured because it cannot be
// built from npm packages alone without a compiler toolchain dependency. forward_backward FLOPs
// come from the model's shapes (docs/models.md, "Cost of a step"), not from timing guesses.
import { createModel, type Datum, encode, MODEL_CATALOG, type ModelSpec } from "tinker-local";
import { type BenchResult, median, round, runIfMain, timeSync } from "./lib.js";

const REPS = 7;

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
    // Attention as dense T×T matmuls: forward Q·Kᵀ and P·V; backward dP, dQ, dK, dV.
    macs += 6 * T * T * d;
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

export const name = "kernels";
export const description =
  "Reference matmul GFLOP/s of this machine (blocked float64/float32 JS loops) next to forward_backward GFLOP/s on tinker-local/small (FLOPs from its shapes), same run.";

export async function run(): Promise<BenchResult[]> {
  const rows: BenchResult[] = [];
  let best = 0;
  // Shapes of small's own matmuls: [T, d]·[d, dMlp] and a square one.
  const shapes = [
    [256, 128, 512],
    [256, 256, 256],
  ] as const;
  for (const [label, Type] of [
    ["float64", Float64Array],
    ["float32", Float32Array],
  ] as const) {
    for (const [kname, kernel] of [
      ["4x4", blocked4x4],
      ["4x2", blocked4x2],
    ] as const) {
      for (const [M, K, N] of shapes) {
        const a = randomArray(Type, M * K);
        const b = randomArray(Type, N * K);
        const out = new Type(M * N);
        const ms = median(timeSync(() => kernel(a, M, K, b, N, out), REPS));
        const rate = gflops(2 * M * K * N, ms);
        if (label === "float64") best = Math.max(best, rate);
        rows.push({
          metric: `reference matmul ${label} ${kname} ${M}x${K}x${N}`,
          value: rate,
          unit: "GFLOP/s",
        });
      }
    }
  }
  const small = MODEL_CATALOG.find((m) => m.name === "tinker-local/small") as ModelSpec;
  const rank = 8;
  const model = createModel(small.name, { rank });
  for (const T of [64, 256]) {
    const data = batch(T);
    const ms = median(timeSync(() => model.forwardBackward(data, "cross_entropy"), REPS));
    const rate = gflops(2 * forwardBackwardMacs(small, T, rank), ms);
    rows.push({
      metric: `small forward_backward 1x${T}`,
      value: rate,
      unit: "GFLOP/s",
      notes: `${round(ms, 1)} ms; ${round(rate / best, 2)}× the best float64 reference`,
    });
  }
  rows[0] = { ...(rows[0] as BenchResult), notes: `median of ${REPS} after 2 warm-ups; one thread` };
  return rows;
}

await runIfMain(import.meta.url, { name, description, run });
