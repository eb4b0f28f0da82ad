// What every benchmark module exports, and the small statistics and timing helpers they share.
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";

export interface BenchResult {
  metric: string;
  value: number;
  unit: string;
  notes?: string;
}

export interface Benchmark {
  /** Short id used on the command line (`npm run bench -- <name>`) and as the doc section key. */
  name: string;
  /** One sentence for the doc: what is measured and how. */
  description: string;
  run(): Promise<BenchResult[]>;
}

function sorted(xs: readonly number[]): number[] {
  if (xs.length === 0) throw new RangeError("no samples");
  return [...xs].sort((a, b) => a - b);
}

/** Nearest-rank percentile: the smallest sample with at least p % of the samples at or below it. */
export function percentile(xs: readonly number[], p: number): number {
  const s = sorted(xs);
  const rank = Math.max(1, Math.ceil((p / 100) * s.length));
  return s[rank - 1]!;
}

export const median = (xs: readonly number[]): number => percentile(xs, 50);

/**
 * A seeded generator of numbers in [0, 1) (mulberry32): the same seed gives the same inputs in every
 * run, so benchmarks compare like with like.
 */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const round = (x: number, digits: number): number => Number(x.toFixed(digits));

/** Milliseconds of each call after `warmup` untimed calls (V8 optimises kernels per shape first). */
export function timeSync(fn: () => void, reps: number, warmup = 2): number[] {
  for (let i = 0; i < warmup; i++) fn();
  const ms: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    fn();
    ms.push(performance.now() - t0);
  }
  return ms;
}

/** Same as timeSync for async work, one call at a time. */
export async function timeAsync(fn: () => Promise<unknown>, reps: number, warmup = 2): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const ms: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    ms.push(performance.now() - t0);
  }
  return ms;
}

/** p50, p95 and max rows for one set of latencies. */
export function latencyRows(what: string, ms: readonly number[], notes?: string): BenchResult[] {
  const n = `n=${ms.length}${notes === undefined ? "" : `; ${notes}`}`;
  return [
    { metric: `${what} p50`, value: percentile(ms, 50), unit: "ms", notes: n },
    { metric: `${what} p95`, value: percentile(ms, 95), unit: "ms" },
    { metric: `${what} max`, value: Math.max(...ms), unit: "ms" },
  ];
}

/** Three significant digits, or whole numbers from 100 up. */
export function formatValue(value: number): string {
  if (Number.isInteger(value)) return String(value);
  return Math.abs(value) >= 100 ? value.toFixed(0) : value.toPrecision(3);
}

/** Markdown table with padded columns, so the generated doc reads well as plain text too. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(3, h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    `| ${widths.map((w, i) => (cells[i] ?? "").padEnd(w)).join(" | ")} |`;
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

export function resultsTable(results: readonly BenchResult[]): string {
  return markdownTable(
    ["metric", "value", "unit", "notes"],
    results.map((r) => [r.metric, formatValue(r.value), r.unit, r.notes ?? ""]),
  );
}

/** The repository root (bench/ lives directly under it). */
export const REPO_ROOT = resolve(fileURLToPath(new URL(".", import.meta.url)), "..");

/** Lets a benchmark module still be run on its own: prints its table, writes no doc. */
export async function runIfMain(moduleUrl: string, benchmark: Benchmark): Promise<void> {
  const entry = process.argv[1];
  if (entry === undefined || resolve(entry) !== fileURLToPath(moduleUrl)) return;
  const t0 = performance.now();
  const results = await benchmark.run();
  console.log(`${benchmark.name}: ${benchmark.description}\n`);
  console.log(resultsTable(results));
  console.log(`\n${((performance.now() - t0) / 1000).toFixed(1)} s, Node ${process.version}`);
}
