// Causal multi-head self-attention over a whole sequence, forward and backward, as matmuls banded
// to the causal triangle (split from transformer.ts). The KV-cache path for sampling is attendRow
// in kernels.ts; both sum in the same order, so they agree bit for bit.
import { matmulTBand, softmaxInPlace, transpose } from "./kernels.js";

/** What attention backward reads from a layer's forward: Q, K, V ([T, d]) and P ([H, T, T]). */
export interface AttentionTape {
  q: Float64Array;
  k: Float64Array;
  v: Float64Array;
  probs: Float64Array;
}

/**
 * Per head, with P the saved attention weights (zero above the diagonal):
 *   dP = dO·Vᵀ,  dS = P ⊙ (dP − rowsum(P ⊙ dP)) · scale,  dQ = dS·K,  dK = dSᵀ·Q,  dV = Pᵀ·dO.
 * Done as matmuls banded to the causal triangle (matmulTBand): the blocked kernel's speed without
 * the multiply-adds by the zeros above the diagonal.
 */
export function attentionBackward(
  lt: AttentionTape,
  dO: Float64Array,
  dq: Float64Array,
  dk: Float64Array,
  dv: Float64Array,
  T: number,
  d: number,
  H: number,
  hd: number,
  scale: number,
): void {
  const { probs } = lt;
  const qh = new Float64Array(T * hd);
  const kh = new Float64Array(T * hd);
  const vh = new Float64Array(T * hd);
  const doh = new Float64Array(T * hd);
  const out = new Float64Array(T * hd);
  const dP = new Float64Array(T * T);
  const dS = new Float64Array(T * T);
  for (let hh = 0; hh < H; hh++) {
    const off = hh * hd;
    gatherHead(lt.q, qh, T, d, off, hd);
    gatherHead(lt.k, kh, T, d, off, hd);
    gatherHead(lt.v, vh, T, d, off, hd);
    gatherHead(dO, doh, T, d, off, hd);
    const P = probs.subarray(hh * T * T, (hh + 1) * T * T);
    matmulTBand(doh, T, hd, vh, T, dP, "lower");
    for (let t = 0; t < T; t++) {
      const row = t * T;
      let rowDot = 0;
      for (let j = 0; j <= t; j++) rowDot += (P[row + j] as number) * (dP[row + j] as number);
      for (let j = 0; j <= t; j++)
        dS[row + j] = (P[row + j] as number) * ((dP[row + j] as number) - rowDot) * scale;
      for (let j = t + 1; j < T; j++) dS[row + j] = 0;
    }
    const dST = transpose(dS, T, T);
    const PT = transpose(P, T, T);
    matmulTBand(dS, T, T, transpose(kh, T, hd), hd, out, "prefix");
    scatterHeadAdd(out, dq, T, d, off, hd);
    matmulTBand(dST, T, T, transpose(qh, T, hd), hd, out, "suffix");
    scatterHeadAdd(out, dk, T, d, off, hd);
    matmulTBand(PT, T, T, transpose(doh, T, hd), hd, out, "suffix");
    scatterHeadAdd(out, dv, T, d, off, hd);
  }
}

/**
 * One head of causal self-attention over a whole sequence, as banded matmuls: S = Q·Kᵀ·scale on
 * and below the diagonal, row-wise softmax over j <= t (zero above) into P, O = P·V. Sums run in
 * the same order as attendRow's, so this matches it bit for bit.
 */
export function causalAttentionHead(
  q: Float64Array,
  k: Float64Array,
  v: Float64Array,
  T: number,
  d: number,
  off: number,
  hd: number,
  scale: number,
  P: Float64Array,
  o: Float64Array,
): void {
  const qh = new Float64Array(T * hd);
  const kh = new Float64Array(T * hd);
  const vh = new Float64Array(T * hd);
  gatherHead(q, qh, T, d, off, hd);
  gatherHead(k, kh, T, d, off, hd);
  gatherHead(v, vh, T, d, off, hd);
  matmulTBand(qh, T, hd, kh, T, P, "lower");
  for (let t = 0; t < T; t++) {
    const row = t * T;
    for (let j = 0; j <= t; j++) P[row + j] = (P[row + j] as number) * scale;
    softmaxInPlace(P, row, t + 1);
    P.fill(0, row + t + 1, row + T);
  }
  const oh = new Float64Array(T * hd);
  matmulTBand(P, T, T, transpose(vh, T, hd), hd, oh, "prefix");
  for (let t = 0; t < T; t++) o.set(oh.subarray(t * hd, (t + 1) * hd), t * d + off);
}

function gatherHead(
  src: Float64Array,
  dst: Float64Array,
  T: number,
  d: number,
  off: number,
  hd: number,
): void {
  for (let t = 0; t < T; t++) dst.set(src.subarray(t * d + off, t * d + off + hd), t * hd);
}

function scatterHeadAdd(
  src: Float64Array,
  dst: Float64Array,
  T: number,
  d: number,
  off: number,
  hd: number,
): void {
  for (let t = 0; t < T; t++) {
    for (let c = 0; c < hd; c++)
      dst[t * d + off + c] = (dst[t * d + off + c] as number) + (src[t * hd + c] as number);
  }
}
