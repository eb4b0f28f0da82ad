// Dense float64 kernels for the tiny transformer. Every dot product sums over its inner index in
// ascending order, whatever the blocking, so a row computed alone (sampling with a KV cache) has the
// same bits as the same row computed inside a batch (training forward).

/** Which part of a matmul to compute; see matmulTBand. */
export type Band = "full" | "prefix" | "suffix" | "lower";

/** out[M,N] = a[M,K] · bt[N,K]ᵀ (overwrites out). Blocks of 4 rows × 2 columns keep 8 sums in registers. */
export function matmulT(
  a: Float64Array,
  M: number,
  K: number,
  bt: Float64Array,
  N: number,
  out: Float64Array,
): void {
  matmulTBand(a, M, K, bt, N, out, "full");
}

/**
 * out[M,N] += alpha · a[M,K] · bt[N,K]ᵀ, without a temporary: each element becomes
 * out + alpha·(its dot product), the same bits as adding alpha times a separate matmulT's result.
 */
export function addMatmulT(
  a: Float64Array,
  M: number,
  K: number,
  bt: Float64Array,
  N: number,
  out: Float64Array,
  alpha: number,
): void {
  matmulTBand(a, M, K, bt, N, out, "full", alpha);
}

/**
 * matmulT restricted to what causal attention needs, skipping work on known zeros:
 * - "prefix": row i of a is zero beyond column i (lower-triangular a, e.g. P in P·V), so the sum
 *   for a block of rows stops after its last row's index;
 * - "suffix": row i of a is zero before column i (upper-triangular a, e.g. Pᵀ in Pᵀ·dO), so the sum
 *   starts at the block's first row;
 * - "lower": only out[i, j] with j <= i is wanted (S = Q·Kᵀ); entries above the diagonal within a
 *   block of rows are computed too and the rest are left as they were, for the caller to mask.
 * Skipped terms are exact zeros and every sum still runs in ascending order, so the bits match the
 * full product (and the one-row-at-a-time sampling path). With `alpha` given, each result is added
 * into out as out + alpha·sum instead of written.
 */
export function matmulTBand(
  a: Float64Array,
  M: number,
  K: number,
  bt: Float64Array,
  N: number,
  out: Float64Array,
  band: Band,
  alpha?: number,
): void {
  if (alpha !== undefined) {
    addMatmulTBand(a, M, K, bt, N, out, band, alpha);
    return;
  }
  let i = 0;
  for (; i + 3 < M; i += 4) {
    const kLo = band === "suffix" ? Math.min(i, K) : 0;
    const kHi = band === "prefix" ? Math.min(i + 4, K) : K;
    const jHi = band === "lower" ? Math.min(i + 4, N) : N;
    const a0 = i * K;
    const a1 = a0 + K;
    const a2 = a1 + K;
    const a3 = a2 + K;
    const o0 = i * N;
    let j = 0;
    for (; j + 1 < jHi; j += 2) {
      const b0 = j * K;
      const b1 = b0 + K;
      let s00 = 0;
      let s01 = 0;
      let s10 = 0;
      let s11 = 0;
      let s20 = 0;
      let s21 = 0;
      let s30 = 0;
      let s31 = 0;
      for (let k = kLo; k < kHi; k++) {
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
      out[o0 + j] = s00;
      out[o0 + j + 1] = s01;
      out[o0 + N + j] = s10;
      out[o0 + N + j + 1] = s11;
      out[o0 + 2 * N + j] = s20;
      out[o0 + 2 * N + j + 1] = s21;
      out[o0 + 3 * N + j] = s30;
      out[o0 + 3 * N + j + 1] = s31;
    }
    if (j < jHi) {
      for (let r = 0; r < 4; r++) out[o0 + r * N + j] = dotRange(a, a0 + r * K, bt, j * K, kLo, kHi);
    }
  }
  for (; i < M; i++) {
    const kLo = band === "suffix" ? Math.min(i, K) : 0;
    const kHi = band === "prefix" ? Math.min(i + 1, K) : K;
    const jHi = band === "lower" ? Math.min(i + 1, N) : N;
    const a0 = i * K;
    const o0 = i * N;
    let j = 0;
    for (; j + 1 < jHi; j += 2) {
      const b0 = j * K;
      const b1 = b0 + K;
      let s0 = 0;
      let s1 = 0;
      for (let k = kLo; k < kHi; k++) {
        const x = a[a0 + k] as number;
        s0 += x * (bt[b0 + k] as number);
        s1 += x * (bt[b1 + k] as number);
      }
      out[o0 + j] = s0;
      out[o0 + j + 1] = s1;
    }
    if (j < jHi) out[o0 + j] = dotRange(a, a0, bt, j * K, kLo, kHi);
  }
}

/** matmulTBand adding alpha·sum into out (a copy of its loops: one branch-free hot loop each). */
function addMatmulTBand(
  a: Float64Array,
  M: number,
  K: number,
  bt: Float64Array,
  N: number,
  out: Float64Array,
  band: Band,
  alpha: number,
): void {
  let i = 0;
  for (; i + 3 < M; i += 4) {
    const kLo = band === "suffix" ? Math.min(i, K) : 0;
    const kHi = band === "prefix" ? Math.min(i + 4, K) : K;
    const jHi = band === "lower" ? Math.min(i + 4, N) : N;
    const a0 = i * K;
    const a1 = a0 + K;
    const a2 = a1 + K;
    const a3 = a2 + K;
    const o0 = i * N;
    let j = 0;
    for (; j + 1 < jHi; j += 2) {
      const b0 = j * K;
      const b1 = b0 + K;
      let s00 = 0;
      let s01 = 0;
      let s10 = 0;
      let s11 = 0;
      let s20 = 0;
      let s21 = 0;
      let s30 = 0;
      let s31 = 0;
      for (let k = kLo; k < kHi; k++) {
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
      out[o0 + j] = (out[o0 + j] as number) + alpha * s00;
      out[o0 + j + 1] = (out[o0 + j + 1] as number) + alpha * s01;
      out[o0 + N + j] = (out[o0 + N + j] as number) + alpha * s10;
      out[o0 + N + j + 1] = (out[o0 + N + j + 1] as number) + alpha * s11;
      out[o0 + 2 * N + j] = (out[o0 + 2 * N + j] as number) + alpha * s20;
      out[o0 + 2 * N + j + 1] = (out[o0 + 2 * N + j + 1] as number) + alpha * s21;
      out[o0 + 3 * N + j] = (out[o0 + 3 * N + j] as number) + alpha * s30;
      out[o0 + 3 * N + j + 1] = (out[o0 + 3 * N + j + 1] as number) + alpha * s31;
    }
    if (j < jHi) {
      for (let r = 0; r < 4; r++)
        out[o0 + r * N + j] =
          (out[o0 + r * N + j] as number) + alpha * dotRange(a, a0 + r * K, bt, j * K, kLo, kHi);
    }
  }
  for (; i < M; i++) {
    const kLo = band === "suffix" ? Math.min(i, K) : 0;
    const kHi = band === "prefix" ? Math.min(i + 1, K) : K;
    const jHi = band === "lower" ? Math.min(i + 1, N) : N;
    const a0 = i * K;
    const o0 = i * N;
    let j = 0;
    for (; j + 1 < jHi; j += 2) {
      const b0 = j * K;
      const b1 = b0 + K;
      let s0 = 0;
      let s1 = 0;
      for (let k = kLo; k < kHi; k++) {
        const x = a[a0 + k] as number;
        s0 += x * (bt[b0 + k] as number);
        s1 += x * (bt[b1 + k] as number);
      }
      out[o0 + j] = (out[o0 + j] as number) + alpha * s0;
      out[o0 + j + 1] = (out[o0 + j + 1] as number) + alpha * s1;
    }
    if (j < jHi) out[o0 + j] = (out[o0 + j] as number) + alpha * dotRange(a, a0, bt, j * K, kLo, kHi);
  }
}

function dotRange(a: Float64Array, ao: number, b: Float64Array, bo: number, lo: number, hi: number): number {
  let s = 0;
  for (let k = lo; k < hi; k++) s += (a[ao + k] as number) * (b[bo + k] as number);
  return s;
}

/** out[M,N] += scale · a[K,M]ᵀ · b[K,N]: the gradient of a weight from its input and output grads. */
export function addMatmulTA(
  a: Float64Array,
  K: number,
  M: number,
  b: Float64Array,
  N: number,
  scale: number,
  out: Float64Array,
): void {
  for (let k = 0; k < K; k++) {
    const ak = k * M;
    const bk = k * N;
    for (let m = 0; m < M; m++) {
      const x = (a[ak + m] as number) * scale;
      if (x === 0) continue;
      const om = m * N;
      for (let n = 0; n < N; n++) out[om + n] = (out[om + n] as number) + x * (b[bk + n] as number);
    }
  }
}

/** Row-major transpose of a[R,C] into a new [C,R] array. */
export function transpose(a: Float64Array, R: number, C: number): Float64Array {
  const out = new Float64Array(R * C);
  for (let r = 0; r < R; r++) {
    const ar = r * C;
    for (let c = 0; c < C; c++) out[c * R + r] = a[ar + c] as number;
  }
  return out;
}

const RMS_EPS = 1e-6;

/** Parameter-free RMSNorm over rows of x[T,d]: y = x / sqrt(mean(x²) + eps). Saves 1/rms per row. */
export function rmsnormForward(
  x: Float64Array,
  T: number,
  d: number,
  y: Float64Array,
  rinv: Float64Array,
): void {
  for (let t = 0; t < T; t++) {
    const o = t * d;
    let ss = 0;
    for (let c = 0; c < d; c++) {
      const v = x[o + c] as number;
      ss += v * v;
    }
    const r = 1 / Math.sqrt(ss / d + RMS_EPS);
    rinv[t] = r;
    for (let c = 0; c < d; c++) y[o + c] = (x[o + c] as number) * r;
  }
}

/** dx += r · (dy − y · mean(dy ⊙ y)), the RMSNorm input gradient, added into dx. */
export function rmsnormBackwardAdd(
  dy: Float64Array,
  y: Float64Array,
  rinv: Float64Array,
  T: number,
  d: number,
  dx: Float64Array,
): void {
  for (let t = 0; t < T; t++) {
    const o = t * d;
    let dot = 0;
    for (let c = 0; c < d; c++) dot += (dy[o + c] as number) * (y[o + c] as number);
    const mean = dot / d;
    const r = rinv[t] as number;
    for (let c = 0; c < d; c++) {
      dx[o + c] = (dx[o + c] as number) + r * ((dy[o + c] as number) - (y[o + c] as number) * mean);
    }
  }
}

const GELU_C = Math.sqrt(2 / Math.PI);
const GELU_K = 0.044715;

/**
 * GELU, tanh form: smooth everywhere, so finite-difference checks have no kinks to trip on. When
 * `th` is given it receives each tanh, so backward need not recompute it.
 */
export function geluForward(a: Float64Array, g: Float64Array, th?: Float64Array): void {
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const t = Math.tanh(GELU_C * (x + GELU_K * x * x * x));
    if (th) th[i] = t;
    g[i] = 0.5 * x * (1 + t);
  }
}

/** da[i] = dg[i] · gelu'(a[i]), with th the tanh values saved by geluForward. */
export function geluBackward(a: Float64Array, th: Float64Array, dg: Float64Array, da: Float64Array): void {
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const t = th[i] as number;
    const d = 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * GELU_C * (1 + 3 * GELU_K * x * x);
    da[i] = (dg[i] as number) * d;
  }
}

/**
 * In-place softmax of buf[off, off+n). Shared by both attention paths, so the training forward and
 * the KV-cache sampler produce the same attention weights bit for bit.
 */
export function softmaxInPlace(buf: Float64Array, off: number, n: number): void {
  let max = Number.NEGATIVE_INFINITY;
  for (let j = 0; j < n; j++) {
    const v = buf[off + j] as number;
    if (v > max) max = v;
  }
  let sum = 0;
  for (let j = 0; j < n; j++) {
    const e = Math.exp((buf[off + j] as number) - max);
    buf[off + j] = e;
    sum += e;
  }
  const inv = 1 / sum;
  for (let j = 0; j < n; j++) buf[off + j] = (buf[off + j] as number) * inv;
}

/**
 * Causal attention of one query row against keys/values 0..n-1 of one head (the sampling path).
 * q at q[qOff..qOff+hd), key j at k[j*stride + headOff ..], same for v. Sums run in the same order
 * as the matmul form of the training forward (matmulT over a zero-padded causal row), so the
 * results are identical.
 */
export function attendRow(
  q: Float64Array,
  qOff: number,
  k: Float64Array,
  v: Float64Array,
  stride: number,
  headOff: number,
  n: number,
  hd: number,
  scale: number,
  scores: Float64Array,
  out: Float64Array,
  outOff: number,
): void {
  for (let j = 0; j < n; j++) {
    const kj = j * stride + headOff;
    let s = 0;
    for (let c = 0; c < hd; c++) s += (q[qOff + c] as number) * (k[kj + c] as number);
    scores[j] = s * scale;
  }
  softmaxInPlace(scores, 0, n);
  for (let c = 0; c < hd; c++) {
    let acc = 0;
    for (let j = 0; j < n; j++) acc += (scores[j] as number) * (v[j * stride + headOff + c] as number);
    out[outOff + c] = acc;
  }
}

/** log Σ exp over row t of x[T,V]. */
export function logSumExpRow(x: Float64Array, off: number, V: number): number {
  let max = Number.NEGATIVE_INFINITY;
  for (let j = 0; j < V; j++) {
    const v = x[off + j] as number;
    if (v > max) max = v;
  }
  let sum = 0;
  for (let j = 0; j < V; j++) sum += Math.exp((x[off + j] as number) - max);
  return max + Math.log(sum);
}
