// The decoder-only transformer: token + learned position embeddings, pre-norm blocks (causal
// multi-head attention, GELU MLP), a final RMSNorm and the unembedding. Base weights are frozen;
// only LoRA adapters receive gradients, so backward computes activation gradients and adapter
// gradients, never base-weight gradients.

import { type AttentionTape, attentionBackward, causalAttentionHead } from "./attention.js";
import { type BaseWeights, type LinearWeight, sinusoidalPosition } from "./base-weights.js";
import {
  addMatmulT,
  addMatmulTA,
  attendRow,
  geluBackward,
  geluForward,
  matmulT,
  rmsnormBackwardAdd,
  rmsnormForward,
  transpose,
} from "./kernels.js";
import type { LoraAdapter } from "./lora.js";

/** A frozen linear map plus, optionally, its LoRA adapter. */
class Linear {
  constructor(
    readonly base: LinearWeight,
    readonly lora: LoraAdapter | undefined,
  ) {}

  /** y[M,out] = x·Wᵀ + s·(x·Aᵀ)·Bᵀ. Returns x·Aᵀ, which backward needs (null without adapter). */
  forward(x: Float64Array, M: number, y: Float64Array): Float64Array | null {
    const { out, in: n, w } = this.base;
    matmulT(x, M, n, w, out, y);
    const lora = this.lora;
    if (!lora) return null;
    const r = lora.rank;
    const u = new Float64Array(M * r);
    matmulT(x, M, n, lora.a, r, u);
    addMatmulT(u, M, r, lora.b, out, y, lora.scale);
    return u;
  }

  /** Accumulates adapter gradients; adds the input gradient into dx when dx is given. */
  backward(
    x: Float64Array,
    u: Float64Array | null,
    dy: Float64Array,
    M: number,
    dx: Float64Array | null,
  ): void {
    const { out, in: n } = this.base;
    if (dx) addMatmulT(dy, M, out, this.base.wt, n, dx, 1);
    const lora = this.lora;
    if (!lora || !u) return;
    const r = lora.rank;
    const s = lora.scale;
    const dyB = new Float64Array(M * r);
    matmulT(dy, M, out, transpose(lora.b, out, r), r, dyB);
    addMatmulTA(dy, M, out, u, r, s, lora.gB);
    addMatmulTA(dyB, M, r, x, n, s, lora.gA);
    if (dx) addMatmulT(dyB, M, r, transpose(lora.a, r, n), n, dx, s);
  }
}

interface LayerLinears {
  q: Linear;
  k: Linear;
  v: Linear;
  o: Linear;
  up: Linear;
  down: Linear;
}

interface LayerTape extends AttentionTape {
  h: Float64Array;
  rinv1: Float64Array;
  q: Float64Array;
  k: Float64Array;
  v: Float64Array;
  uq: Float64Array | null;
  uk: Float64Array | null;
  uv: Float64Array | null;
  probs: Float64Array;
  o: Float64Array;
  uo: Float64Array | null;
  h2: Float64Array;
  rinv2: Float64Array;
  a: Float64Array;
  uup: Float64Array | null;
  g: Float64Array;
  /** tanh inside the GELU, per element of a. */
  th: Float64Array;
  udown: Float64Array | null;
}

/** Everything backward needs from one forward pass over one sequence. */
export interface Tape {
  T: number;
  layers: LayerTape[];
  hf: Float64Array;
  rinvf: Float64Array;
}

/** Per-sequence keys and values of every layer, for sampling one token at a time. */
export class KvCache {
  readonly k: Float64Array[];
  readonly v: Float64Array[];
  constructor(nLayers: number, rows: number, d: number) {
    this.k = Array.from({ length: nLayers }, () => new Float64Array(rows * d));
    this.v = Array.from({ length: nLayers }, () => new Float64Array(rows * d));
  }
  clone(): KvCache {
    const c = Object.create(KvCache.prototype) as KvCache;
    (c as { k: Float64Array[] }).k = this.k.map((a) => a.slice());
    (c as { v: Float64Array[] }).v = this.v.map((a) => a.slice());
    return c;
  }
}

export class Transformer {
  readonly d: number;
  readonly nHeads: number;
  readonly hd: number;
  readonly vocab: number;
  readonly dMlp: number;
  private readonly layers: LayerLinears[];
  private readonly head: Linear;
  private readonly scale: number;

  constructor(
    readonly base: BaseWeights,
    adapters: ReadonlyMap<string, LoraAdapter>,
  ) {
    const spec = base.spec;
    this.d = spec.dModel;
    this.nHeads = spec.nHeads;
    this.hd = spec.dModel / spec.nHeads;
    this.vocab = base.vocabSize;
    this.dMlp = spec.dMlp;
    this.scale = 1 / Math.sqrt(this.hd);
    this.layers = base.layers.map((w, l) => ({
      q: new Linear(w.q, adapters.get(`layers.${l}.self_attn.q_proj`)),
      k: new Linear(w.k, adapters.get(`layers.${l}.self_attn.k_proj`)),
      v: new Linear(w.v, adapters.get(`layers.${l}.self_attn.v_proj`)),
      o: new Linear(w.o, adapters.get(`layers.${l}.self_attn.o_proj`)),
      up: new Linear(w.up, adapters.get(`layers.${l}.mlp.up_proj`)),
      down: new Linear(w.down, adapters.get(`layers.${l}.mlp.down_proj`)),
    }));
    this.head = new Linear(base.head, adapters.get("lm_head"));
  }

  private embed(tokens: ArrayLike<number>, positions: ArrayLike<number>, M: number): Float64Array {
    const d = this.d;
    const x = new Float64Array(M * d);
    const { embed, pos } = this.base;
    for (let i = 0; i < M; i++) {
      const e = (tokens[i] as number) * d;
      const o = i * d;
      if (pos === null) {
        for (let c = 0; c < d; c++) x[o + c] = embed[e + c] as number;
        sinusoidalPosition(positions[i] as number, d, x, o);
        continue;
      }
      const p = (positions[i] as number) * d;
      for (let c = 0; c < d; c++) x[o + c] = (embed[e + c] as number) + (pos[p + c] as number);
    }
    return x;
  }

  /**
   * Full causal forward over one sequence up to the final norm: hf is [T, d]; logits come from
   * headForward, a block of rows at a time, so a 150k-token vocabulary never needs a [T, vocab]
   * array. The tape is kept when asked.
   */
  forwardHidden(tokens: ArrayLike<number>, keepTape: boolean): { hf: Float64Array; tape: Tape | null } {
    const T = tokens.length;
    const { d, nHeads: H, hd, dMlp, scale } = this;
    const positions = Array.from({ length: T }, (_, i) => i);
    const x = this.embed(tokens, positions, T);
    const layerTapes: LayerTape[] = [];
    for (const L of this.layers) {
      const h = new Float64Array(T * d);
      const rinv1 = new Float64Array(T);
      rmsnormForward(x, T, d, h, rinv1);
      const q = new Float64Array(T * d);
      const k = new Float64Array(T * d);
      const v = new Float64Array(T * d);
      const uq = L.q.forward(h, T, q);
      const uk = L.k.forward(h, T, k);
      const uv = L.v.forward(h, T, v);
      const o = new Float64Array(T * d);
      const probs = new Float64Array(H * T * T);
      for (let hh = 0; hh < H; hh++) {
        causalAttentionHead(
          q,
          k,
          v,
          T,
          d,
          hh * hd,
          hd,
          scale,
          probs.subarray(hh * T * T, (hh + 1) * T * T),
          o,
        );
      }
      const attnOut = new Float64Array(T * d);
      const uo = L.o.forward(o, T, attnOut);
      for (let i = 0; i < x.length; i++) x[i] = (x[i] as number) + (attnOut[i] as number);
      const h2 = new Float64Array(T * d);
      const rinv2 = new Float64Array(T);
      rmsnormForward(x, T, d, h2, rinv2);
      const a = new Float64Array(T * dMlp);
      const uup = L.up.forward(h2, T, a);
      const g = new Float64Array(T * dMlp);
      const th = keepTape ? new Float64Array(T * dMlp) : undefined;
      geluForward(a, g, th);
      const mlpOut = new Float64Array(T * d);
      const udown = L.down.forward(g, T, mlpOut);
      for (let i = 0; i < x.length; i++) x[i] = (x[i] as number) + (mlpOut[i] as number);
      if (keepTape) {
        layerTapes.push({
          h,
          rinv1,
          q,
          k,
          v,
          uq,
          uk,
          uv,
          probs,
          o,
          uo,
          h2,
          rinv2,
          a,
          uup,
          g,
          th: th as Float64Array,
          udown,
        });
      }
    }
    const hf = new Float64Array(T * d);
    const rinvf = new Float64Array(T);
    rmsnormForward(x, T, d, hf, rinvf);
    return { hf, tape: keepTape ? { T, layers: layerTapes, hf, rinvf } : null };
  }

  /** Logits of rows [r0, r0 + n) of hf into out[0, n·vocab). */
  headForward(hf: Float64Array, r0: number, n: number, out: Float64Array): void {
    const d = this.d;
    this.head.forward(hf.subarray(r0 * d, (r0 + n) * d), n, out.subarray(0, n * this.vocab));
  }

  /**
   * The unembedding's part of backward for rows [r0, r0 + n): adapter gradients from dlogits
   * (out[0, n·vocab)), and dLoss/dhf of those rows added into dhf when given. Blocks of rows taken in
   * ascending order accumulate in the same order as one call over all rows, so the bits match.
   */
  headBackward(
    hf: Float64Array,
    r0: number,
    n: number,
    dlogits: Float64Array,
    dhf: Float64Array | null,
  ): void {
    const d = this.d;
    const x = hf.subarray(r0 * d, (r0 + n) * d);
    const lora = this.head.lora;
    let u: Float64Array | null = null;
    if (lora) {
      u = new Float64Array(n * lora.rank);
      matmulT(x, n, d, lora.a, lora.rank, u);
    }
    this.head.backward(
      x,
      u,
      dlogits.subarray(0, n * this.vocab),
      n,
      dhf ? dhf.subarray(r0 * d, (r0 + n) * d) : null,
    );
  }

  /** True when some layer below the unembedding has an adapter, so backward needs dLoss/dhf. */
  get needsHiddenGradient(): boolean {
    return this.layers.some((L) => Object.values(L).some((lin: Linear) => lin.lora));
  }

  /** Backpropagates dLoss/dhf ([T, d], from headBackward) into the layers' adapter gradients. */
  backward(tape: Tape, dhf: Float64Array): void {
    const { T } = tape;
    const { d, nHeads: H, hd, dMlp, scale } = this;
    // dx holds dLoss/d(residual stream) at the current depth.
    const dx = new Float64Array(T * d);
    rmsnormBackwardAdd(dhf, tape.hf, tape.rinvf, T, d, dx);
    for (let l = this.layers.length - 1; l >= 0; l--) {
      const L = this.layers[l] as LayerLinears;
      const lt = tape.layers[l] as LayerTape;
      const attnAdapted = Boolean(L.q.lora || L.k.lora || L.v.lora || L.o.lora);
      const needBelow = l > 0 || attnAdapted;
      // MLP branch: x_out = x_mid + down(gelu(up(h2))); dx is d x_out here.
      const dg = new Float64Array(T * dMlp);
      L.down.backward(lt.g, lt.udown, dx, T, dg);
      const da = new Float64Array(T * dMlp);
      geluBackward(lt.a, lt.th, dg, da);
      const dh2 = needBelow ? new Float64Array(T * d) : null;
      L.up.backward(lt.h2, lt.uup, da, T, dh2);
      if (!dh2) return;
      rmsnormBackwardAdd(dh2, lt.h2, lt.rinv2, T, d, dx); // dx is now d x_mid
      // Attention branch: x_mid = x_in + o_proj(attn(h)).
      const dO = new Float64Array(T * d);
      L.o.backward(lt.o, lt.uo, dx, T, dO);
      const dq = new Float64Array(T * d);
      const dk = new Float64Array(T * d);
      const dv = new Float64Array(T * d);
      attentionBackward(lt, dO, dq, dk, dv, T, d, H, hd, scale);
      const dh = l > 0 ? new Float64Array(T * d) : null;
      L.q.backward(lt.h, lt.uq, dq, T, dh);
      L.k.backward(lt.h, lt.uk, dk, T, dh);
      L.v.backward(lt.h, lt.uv, dv, T, dh);
      if (dh) rmsnormBackwardAdd(dh, lt.h, lt.rinv1, T, d, dx); // dx is now d x_in
    }
  }

  newCache(rows: number): KvCache {
    return new KvCache(this.layers.length, rows, this.d);
  }

  /**
   * Forward for rows that each extend their own sequence: row i is token tokens[i] at position
   * positions[i] of the sequence cached in caches[i] (rows may share a cache, as in a prompt
   * prefill, when their positions increase). Writes keys/values into the caches; returns logits of every row (or of the last, with lastRowOnly).
   * Uses the same kernels in the same order as `forward`, so logits match it bit for bit.
   */
  forwardRows(
    tokens: ArrayLike<number>,
    positions: ArrayLike<number>,
    caches: readonly KvCache[],
    lastRowOnly = false,
  ): Float64Array {
    const M = tokens.length;
    const { d, nHeads: H, hd, dMlp, scale } = this;
    const x = this.embed(tokens, positions, M);
    let maxPos = 0;
    for (let i = 0; i < M; i++) maxPos = Math.max(maxPos, positions[i] as number);
    const scores = new Float64Array(maxPos + 1);
    const h = new Float64Array(M * d);
    const rinv = new Float64Array(M);
    const q = new Float64Array(M * d);
    const k = new Float64Array(M * d);
    const v = new Float64Array(M * d);
    const o = new Float64Array(M * d);
    const branch = new Float64Array(M * d);
    const a = new Float64Array(M * dMlp);
    const g = new Float64Array(M * dMlp);
    this.layers.forEach((L, l) => {
      rmsnormForward(x, M, d, h, rinv);
      L.q.forward(h, M, q);
      L.k.forward(h, M, k);
      L.v.forward(h, M, v);
      for (let i = 0; i < M; i++) {
        const cache = caches[i] as KvCache;
        const p = (positions[i] as number) * d;
        (cache.k[l] as Float64Array).set(k.subarray(i * d, (i + 1) * d), p);
        (cache.v[l] as Float64Array).set(v.subarray(i * d, (i + 1) * d), p);
      }
      for (let hh = 0; hh < H; hh++) {
        const off = hh * hd;
        for (let i = 0; i < M; i++) {
          const cache = caches[i] as KvCache;
          const n = (positions[i] as number) + 1;
          const kc = cache.k[l] as Float64Array;
          const vc = cache.v[l] as Float64Array;
          attendRow(q, i * d + off, kc, vc, d, off, n, hd, scale, scores, o, i * d + off);
        }
      }
      L.o.forward(o, M, branch);
      for (let i = 0; i < x.length; i++) x[i] = (x[i] as number) + (branch[i] as number);
      rmsnormForward(x, M, d, h, rinv);
      L.up.forward(h, M, a);
      geluForward(a, g);
      L.down.forward(g, M, branch);
      for (let i = 0; i < x.length; i++) x[i] = (x[i] as number) + (branch[i] as number);
    });
    rmsnormForward(x, M, d, h, rinv);
    // A prompt prefill needs the last row's logits only: M·vocab would be 100 MB for a 150k vocab.
    const r0 = lastRowOnly ? M - 1 : 0;
    const logits = new Float64Array((M - r0) * this.vocab);
    this.headForward(h, r0, M - r0, logits);
    return logits;
  }
}
