// Selection in rank order (higher logit first, lower id on ties) in expected linear time, for
// top-k and top-p sampling over vocabularies of 150k-200k tokens.
//
// Both the nucleus threshold and the sampled token are answers to one question: "which token is
// the first, in rank order, at which the running sum of weights reaches X?". A quickselect answers
// it without sorting: partition around a pivot, add up the weight of the side ranked before it, and
// keep only the side that holds the answer. Each pass touches what is left, so the expected cost is
// O(n) against O(n log n) for popping a heap in rank order (which is what this replaced: ~100 ms a
// token for top_p 0.9 on an untrained twin, whose nucleus is most of the vocabulary).
//
// The answer is the token the rank-order walk finds. Only the order in which weights are summed
// differs, so a sum can differ in its last bit; a sample lands on another token only if the uniform
// draw falls within that rounding of a boundary. Pivots come from a generator reset for every call,
// so the same inputs give the same bits.

/** True when token a ranks before token b: higher logit first, lower id on ties. */
export function ranksBefore(logits: Float64Array, off: number, a: number, b: number): boolean {
  const la = logits[off + a] as number;
  const lb = logits[off + b] as number;
  return la > lb || (la === lb && a < b);
}

/** Ranges this short are insertion-sorted and walked instead of partitioned. */
const SMALL = 16;

/** Deterministic pivot positions: an xorshift32 reset by `reset()` for every selection. */
class PivotSource {
  private state = 0x9e3779b9;
  reset(): void {
    this.state = 0x9e3779b9;
  }
  pick(lo: number, hi: number): number {
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    return lo + (this.state % (hi - lo));
  }
}

export class RankSelector {
  private readonly pivots = new PivotSource();

  constructor(
    private readonly logits: Float64Array,
    private readonly off: number,
    /** Token ids to select among; rearranged in place. */
    readonly ids: Int32Array,
    /** Weight of each token id (indexed by id, not by position in `ids`). */
    private readonly weights: Float64Array,
  ) {}

  /**
   * Rearranges ids[0, n) so that ids[0, k) are the k best-ranked (in no particular order), each
   * ranked before every id after them.
   */
  partitionTopK(n: number, k: number): void {
    this.pivots.reset();
    let lo = 0;
    let hi = n;
    while (hi - lo > SMALL) {
      const { at } = this.partition(lo, hi, this.pivots.pick(lo, hi), false);
      if (at === k - 1) return;
      if (at < k - 1) lo = at + 1;
      else hi = at;
    }
    this.sortRange(lo, hi);
  }

  /**
   * Among ids[0, n), the first token in rank order at which the running sum of weights reaches
   * `target` (`>= target`, or `> target` when `strict`). Returns its position in `ids` after the
   * call, with every id ranked before it at a lower position and every one after at a higher one,
   * and the running sum through it. When the sum never reaches `target` (rounding), the last token.
   */
  selectByMass(n: number, target: number, strict: boolean): { at: number; prefix: number } {
    this.pivots.reset();
    const reaches = (x: number) => (strict ? x > target : x >= target);
    const w = this.weights;
    const ids = this.ids;
    let lo = 0;
    let hi = n;
    let base = 0;
    while (hi - lo > SMALL) {
      const { at, massBefore } = this.partition(lo, hi, this.pivots.pick(lo, hi), true);
      if (reaches(base + massBefore)) {
        hi = at;
        continue;
      }
      const through = base + massBefore + (w[ids[at] as number] as number);
      if (reaches(through)) return { at, prefix: through };
      base = through;
      lo = at + 1;
    }
    this.sortRange(lo, hi);
    for (let i = lo; i < hi; i++) {
      base += w[ids[i] as number] as number;
      if (reaches(base)) return { at: i, prefix: base };
    }
    return { at: Math.max(lo, hi) - 1, prefix: base };
  }

  /**
   * Lomuto partition of ids[lo, hi) around the id at `pivotAt`: returns the pivot's new position
   * and (when `withMass`) the summed weight of the ids now before it.
   */
  private partition(lo: number, hi: number, pivotAt: number, withMass: boolean) {
    const ids = this.ids;
    const w = this.weights;
    const last = hi - 1;
    const pivot = ids[pivotAt] as number;
    ids[pivotAt] = ids[last] as number;
    ids[last] = pivot;
    let store = lo;
    let massBefore = 0;
    for (let i = lo; i < last; i++) {
      const id = ids[i] as number;
      if (ranksBefore(this.logits, this.off, id, pivot)) {
        ids[i] = ids[store] as number;
        ids[store] = id;
        store++;
        if (withMass) massBefore += w[id] as number;
      }
    }
    ids[last] = ids[store] as number;
    ids[store] = pivot;
    return { at: store, massBefore };
  }

  /** Insertion sort of ids[lo, hi) into rank order. */
  private sortRange(lo: number, hi: number): void {
    const ids = this.ids;
    for (let i = lo + 1; i < hi; i++) {
      const id = ids[i] as number;
      let j = i - 1;
      while (j >= lo && ranksBefore(this.logits, this.off, id, ids[j] as number)) {
        ids[j + 1] = ids[j] as number;
        j--;
      }
      ids[j + 1] = id;
    }
  }
}
