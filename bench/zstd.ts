// zstd candidates on forward_backward-like protobuf bodies of about 1 MB and 10 MB.
//
//   node --conditions=tinker-source --import tsx bench/zstd.ts
//
// The bodies are real encoder output (tinker-ts/wire): token ids drawn from a skewed distribution
// over a 32k vocabulary, int64 targets, 0/1 float32 weights, as a supervised batch looks.
// Candidates: @bokuweb/zstd-wasm (compress + decompress, what the SDK uses), fzstd (pure-JS
// decompress, tinker-local's dependency), and the system `zstd` CLI as a reference when present
// (its times include process start-up). zstd-napi is not measured: its install script runs
// prebuild-install, which downloads a binary, and downloads are not allowed here.

import { spawnSync } from "node:child_process";
import * as bokuweb from "@bokuweb/zstd-wasm";
import { decompress as fzstdDecompress } from "fzstd";
import { Datum, encodeForwardBackwardRequestProto, type WireDatum } from "tinker-ts/wire";

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function body(targetBytes: number): Uint8Array {
  const rand = rng(42);
  const tokensPerDatum = 2048;
  const data: WireDatum[] = [];
  let estimate = 0;
  while (estimate < targetBytes) {
    const tokens = Array.from({ length: tokensPerDatum + 1 }, () => Math.floor(32000 * rand() ** 3));
    const promptLen = Math.floor(rand() * tokensPerDatum);
    const weights = tokens.map((_, i) => (i > promptLen ? 1 : 0));
    data.push(Datum.forNextTokenPrediction(tokens, { weights }).toWire());
    estimate += tokensPerDatum * 16 + 64;
  }
  return encodeForwardBackwardRequestProto({
    model_id: "bench:train:0",
    seq_id: 1,
    data,
    loss_fn: "cross_entropy",
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function time(runs: number, fn: () => void): number {
  fn(); // warm-up
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    ms.push(performance.now() - t0);
  }
  return median(ms);
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;
}

const hasCli = spawnSync("zstd", ["--version"]).status === 0;
await bokuweb.init();
const rows: string[] = [];
const row = (...cells: (string | number)[]) => rows.push(`| ${cells.join(" | ")} |`);
row("body", "candidate", "operation", "level", "median ms", "MB/s", "compressed bytes");
row("---", "---", "---", "---", "---", "---", "---");

for (const target of [1_000_000, 10_000_000]) {
  const input = body(target);
  const mb = input.length / 1e6;
  const label = `${mb.toFixed(1)} MB`;
  const runs = target > 5_000_000 ? 5 : 15;
  for (const level of [1, 3]) {
    let packed: Uint8Array = new Uint8Array();
    const tc = time(runs, () => {
      packed = bokuweb.compress(input, level);
    });
    row(
      label,
      "@bokuweb/zstd-wasm",
      "compress",
      level,
      tc.toFixed(1),
      (mb / (tc / 1000)).toFixed(0),
      packed.length,
    );
    if (level !== 3) continue;
    let out: Uint8Array = new Uint8Array();
    const td = time(runs, () => {
      out = bokuweb.decompress(packed, { defaultHeapSize: input.length });
    });
    if (!same(out, input)) throw new Error("bokuweb round trip differs");
    row(label, "@bokuweb/zstd-wasm", "decompress", "", td.toFixed(1), (mb / (td / 1000)).toFixed(0), "");
    const tf = time(runs, () => {
      out = fzstdDecompress(packed);
    });
    if (!same(out, input)) throw new Error("fzstd failed on a bokuweb frame");
    row(label, "fzstd", "decompress", "", tf.toFixed(1), (mb / (tf / 1000)).toFixed(0), "");
  }
  if (hasCli) {
    let cli: Uint8Array = new Uint8Array();
    const tcli = time(3, () => {
      cli = spawnSync("zstd", ["-3", "-c"], { input, maxBuffer: 1 << 28 }).stdout;
    });
    row(
      label,
      "zstd CLI 1.5 (spawn)",
      "compress",
      3,
      tcli.toFixed(1),
      (mb / (tcli / 1000)).toFixed(0),
      cli.length,
    );
    if (!same(bokuweb.decompress(cli, { defaultHeapSize: input.length }), input)) {
      throw new Error("bokuweb failed on a CLI frame");
    }
    if (!same(fzstdDecompress(cli), input)) throw new Error("fzstd failed on a CLI frame");
  }
}

console.log(`Node ${process.version}, ${process.platform}/${process.arch}`);
console.log(rows.join("\n"));
console.log("\ninterop: every decompressed body equals its input (bokuweb ⇄ fzstd ⇄ zstd CLI)");
