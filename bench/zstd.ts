// zstd candidates on forward_backward-like protobuf bodies of about 1 MB and 10 MB.
//   npm run bench -- zstd
//   node --conditions=tinker-source --import tsx bench/zstd.ts   (table only, no doc)
//
// The bodies are real encoder output (tinker-ts/wire): token ids drawn from a skewed distribution
// over a 32k vocabulary, int64 targets, 0/1 float32 weights, as a supervised batch looks.
// Candidates, each measured only when it can be loaded: @bokuweb/zstd-wasm (what the SDK uses),
// the SDK's own zstdDecompress (bokuweb plus the frame-header scan that bounds the output), fzstd
// (pure-JS decompress, tinker-local's dependency), and the system `zstd` CLI as a reference (its
// times include process start-up). Every decompressed body is compared with its input.
import { spawnSync } from "node:child_process";
import { Datum, encodeForwardBackwardRequestProto, type WireDatum, zstdDecompress } from "tinker-ts/wire";
import { type BenchResult, median, rng, runIfMain, timeAsync, timeSync } from "./lib.js";

export const name = "zstd";
export const description =
  "zstd compress/decompress of real forward_backward protobuf bodies (1 MB, 10 MB) with each installed candidate.";

type Bokuweb = typeof import("@bokuweb/zstd-wasm");
type Decompress = (input: Uint8Array) => Uint8Array;

/** A candidate that is not installed is skipped rather than failing the run. */
async function optional<T>(load: () => Promise<T>): Promise<T | undefined> {
  try {
    return await load();
  } catch {
    return undefined;
  }
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

function same(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;
}

function cliVersion(): string | undefined {
  const result = spawnSync("zstd", ["--version"], { encoding: "utf8" });
  if (result.status !== 0) return undefined;
  return /v(\d+\.\d+\.\d+)/.exec(result.stdout)?.[1] ?? "?";
}

export async function run(): Promise<BenchResult[]> {
  const bokuweb = await optional<Bokuweb>(async () => {
    const mod = await import("@bokuweb/zstd-wasm");
    await mod.init();
    return mod;
  });
  if (bokuweb === undefined) throw new Error("@bokuweb/zstd-wasm (a tinker-ts dependency) cannot be loaded");
  const fzstd = await optional(async () => (await import("fzstd")).decompress as Decompress);
  const cli = cliVersion();
  const rows: BenchResult[] = [];

  for (const target of [1_000_000, 10_000_000]) {
    const input = body(target);
    const mb = input.length / 1e6;
    const label = `${mb.toFixed(1)} MB`;
    const reps = target > 5_000_000 ? 5 : 15;
    const speed = (ms: number) => `${(mb / (ms / 1000)).toFixed(0)} MB/s`;
    /** Times fn; `describe` runs afterwards, so it can mention what fn produced. */
    const add = (what: string, fn: () => void, describe: () => string = () => "") => {
      const ms = median(timeSync(fn, reps, 2));
      const extra = describe();
      rows.push({
        metric: `${label} ${what}`,
        value: ms,
        unit: "ms",
        notes: speed(ms) + (extra && `; ${extra}`),
      });
    };

    let packed1: Uint8Array = new Uint8Array();
    add(
      "bokuweb compress level 1",
      () => {
        packed1 = bokuweb.compress(input, 1);
      },
      () => `${packed1.length} bytes out`,
    );
    let packed: Uint8Array = new Uint8Array();
    add(
      "bokuweb compress level 3",
      () => {
        packed = bokuweb.compress(input, 3);
      },
      () => `${packed.length} bytes out`,
    );

    const check = (what: string, out: Uint8Array) => {
      if (!same(out, input)) throw new Error(`${what}: decompressed body differs from the input`);
    };
    let out: Uint8Array = new Uint8Array();
    add("bokuweb decompress", () => {
      out = bokuweb.decompress(packed, { defaultHeapSize: input.length });
    });
    check("bokuweb", out);
    // The SDK's call is async (the wasm module is loaded on first use); timed one call at a time.
    const sdkMs = median(
      await timeAsync(async () => {
        out = await zstdDecompress(packed);
      }, reps),
    );
    check("tinker-ts/wire zstdDecompress", out);
    rows.push({
      metric: `${label} tinker-ts/wire zstdDecompress`,
      value: sdkMs,
      unit: "ms",
      notes: `${speed(sdkMs)}; bokuweb + frame-header scan`,
    });
    if (fzstd !== undefined) {
      add("fzstd decompress", () => {
        out = fzstd(packed);
      });
      check("fzstd on a bokuweb frame", out);
    }
    if (cli !== undefined) {
      let cliOut: Uint8Array = new Uint8Array();
      const ms = median(
        timeSync(
          () => {
            cliOut = spawnSync("zstd", ["-3", "-c"], { input, maxBuffer: 1 << 28 }).stdout;
          },
          3,
          1,
        ),
      );
      rows.push({
        metric: `${label} zstd CLI ${cli} compress level 3`,
        value: ms,
        unit: "ms",
        notes: `${speed(ms)} incl. process spawn; ${cliOut.length} bytes out`,
      });
      check("bokuweb on a CLI frame", bokuweb.decompress(cliOut, { defaultHeapSize: input.length }));
      if (fzstd !== undefined) check("fzstd on a CLI frame", fzstd(cliOut));
    }
  }
  const skipped = [fzstd === undefined ? "fzstd" : "", cli === undefined ? "zstd CLI" : ""].filter(Boolean);
  const first = rows[0]!;
  first.notes = `${first.notes}; every row: median of 15 (1 MB) or 5 (10 MB) after 2 warm-ups${
    skipped.length > 0 ? `; not installed, skipped: ${skipped.join(", ")}` : ""
  }`;
  return rows;
}

await runIfMain(import.meta.url, { name, description, run });
