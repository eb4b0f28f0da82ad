// Twins of hosted models: what a 151k-token (Qwen3) and a 200k-token (gpt-oss) vocabulary cost on
// tinker-local's tiny twin transformer: step times and the process's RSS, next to tinker-local/small.
//   npm run bench -- twins
//   node --conditions=tinker-source --import tsx bench/twins.ts   (table only, no doc)
// Each model runs in its own child process (bench/twin-child.ts, --expose-gc), so RSS is its own.
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { type BenchResult, REPO_ROOT, round, runIfMain } from "./lib.js";
import type { TwinChildResult } from "./twin-child.js";

const MODELS = ["Qwen/Qwen3-4B-Instruct-2507", "openai/gpt-oss-20b", "tinker-local/small"] as const;
const TOKENS = 32;

function measure(name: string): TwinChildResult {
  const out = execFileSync(
    process.execPath,
    [
      "--expose-gc",
      "--conditions=tinker-source",
      "--import",
      "tsx",
      join(REPO_ROOT, "bench", "twin-child.ts"),
      name,
      String(TOKENS),
    ],
    { cwd: REPO_ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] },
  );
  return JSON.parse(out.trim().split("\n").at(-1) as string) as TwinChildResult;
}

export const name = "twins";
export const description = `Twins of hosted models on the model layer (no HTTP), LoRA rank 8 on every module including the unembedding, one sequence of ${TOKENS} tokens: step CPU times (median of 3) and RSS of a process holding one model, next to tinker-local/small.`;

export async function run(): Promise<BenchResult[]> {
  const rows: BenchResult[] = [];
  for (const model of MODELS) {
    const r = measure(model);
    const short = `${model} (vocab ${r.vocabSize})`;
    rows.push(
      {
        metric: `${short} create_model`,
        value: round(r.createMs, 0),
        unit: "CPU ms",
        notes: "base weights drawn from the seed",
      },
      {
        metric: `${short} forward_backward 1x${TOKENS}`,
        value: round(r.forwardBackwardMs, 0),
        unit: "CPU ms",
      },
      { metric: `${short} optim_step`, value: round(r.optimStepMs, 1), unit: "CPU ms" },
      { metric: `${short} sample 16 tokens, top_p 0.9`, value: round(r.sampleMs, 0), unit: "CPU ms" },
      {
        metric: `${short} save_weights`,
        value: round(r.saveWeightsMs, 0),
        unit: "CPU ms",
        notes: `${round(r.checkpointBytes / 2 ** 20, 1)} MiB adapter file`,
      },
      {
        metric: `${short} RSS`,
        value: round(r.rssTrainedMiB, 0),
        unit: "MiB",
        notes: `${round(r.rssBaseMiB, 0)} MiB before create_model (tokenizer loaded), ${round(r.rssModelMiB, 0)} after, ${round(r.rssTrainedMiB, 0)} after 3 steps; peak ${round(r.maxRssMiB, 0)}`,
      },
    );
  }
  return rows;
}

await runIfMain(import.meta.url, { name, description, run });
