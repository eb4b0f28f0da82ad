// The cookbook's recipes: (1) the streaming conversation dataset on a JSONL file larger than 1 GB
// (generated into the OS temp dir, deleted after): index time, index size and the process's peak
// RSS while it reads a shuffled epoch; (2) supervised.train on tinker-local/tiny with pipelining
// (step k+1 submitted before step k is awaited) and without (each step awaited), same data and
// settings, one after the other in this run.
//   npm run bench -- recipes
//   node --conditions=tinker-source --import tsx bench/recipes.ts   (table only, no doc)
import { spawnSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { DEFAULT_LOCAL_API_KEY, startServer } from "tinker-local";
import { getTokenizer, ServiceClient } from "tinker-ts";
import { getRenderer, supervised } from "tinker-ts-cookbook";
import { type BenchResult, REPO_ROOT, round, runIfMain } from "./lib.js";

export const name = "recipes";
export const description =
  "Cookbook recipes: the streaming JSONL dataset on a generated 1.1 GB file (index time, index size, peak RSS of a child process reading a shuffled epoch), and supervised.train steps/s on tinker-local/tiny with pipelining vs awaiting each step.";

const TARGET_BYTES = 1.1e9;
const PIPELINE_STEPS = 12;

/** Writes conversations of varied length until the file passes `bytes`. */
function writeBigJsonl(path: string, bytes: number): number {
  const fd = openSync(path, "w");
  let written = 0;
  let i = 0;
  const filler = "flour sugar butter salt eggs milk ".repeat(40);
  let chunk = "";
  while (written < bytes) {
    const line = JSON.stringify({
      messages: [
        { role: "user", content: `Question ${i}: ${filler.slice(0, 200 + (i % 700))}` },
        { role: "assistant", content: `Answer ${i}: ${filler.slice(0, 50 + (i % 300))}` },
      ],
    });
    chunk += `${line}\n`;
    i++;
    if (chunk.length > 1 << 22) {
      written += writeSync(fd, chunk);
      chunk = "";
    }
  }
  if (chunk) written += writeSync(fd, chunk);
  closeSync(fd);
  return written;
}

async function pipelineRun(pipeline: boolean, dataDir: string): Promise<number> {
  const server = await startServer({ port: 0, dataDir });
  const service = new ServiceClient({ baseUrl: server.url, apiKey: DEFAULT_LOCAL_API_KEY });
  try {
    const renderer = getRenderer("role_colon", await getTokenizer("tinker-local/tiny"));
    const t0 = performance.now();
    await supervised.train({
      service,
      model: "tinker-local/tiny",
      renderer,
      trainData: join(REPO_ROOT, "examples/data/kitchen-chat.jsonl"),
      runDir: join(dataDir, "run"),
      batchSize: { examples: 4 },
      steps: PIPELINE_STEPS,
      learningRate: 0.01,
      maxLength: 128,
      saveEvery: PIPELINE_STEPS,
      pipeline,
      progress: false,
    });
    return PIPELINE_STEPS / ((performance.now() - t0) / 1000);
  } finally {
    await service.close();
    await server.close();
  }
}

export async function run(): Promise<BenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), "bench-recipes-"));
  try {
    const path = join(dir, "big.jsonl");
    const bytes = writeBigJsonl(path, TARGET_BYTES);
    const child = fileURLToPath(new URL("recipes-jsonl-child.ts", import.meta.url));
    const out = spawnSync(
      process.execPath,
      ["--conditions=tinker-source", "--import", "tsx", child, path, "20000"],
      {
        encoding: "utf8",
        cwd: REPO_ROOT,
      },
    );
    if (out.status !== 0) throw new Error(`recipes-jsonl-child failed: ${out.stderr}`);
    const r = JSON.parse(out.stdout.trim().split("\n").at(-1)!) as Record<string, number>;
    rmSync(path);
    const gb = bytes / 1e9;
    const piped = await pipelineRun(true, join(dir, "piped"));
    const awaited = await pipelineRun(false, join(dir, "awaited"));
    return [
      { metric: "JSONL file size", value: round(gb, 2), unit: "GB", notes: `${r.records} records` },
      {
        metric: "index pass",
        value: round(bytes / 2 ** 20 / (r.indexMs! / 1000), 0),
        unit: "MiB/s",
        notes: `${round(r.indexMs! / 1000, 1)} s`,
      },
      { metric: "index size", value: round(r.indexMiB!, 1), unit: "MiB", notes: "12 bytes per record" },
      {
        metric: "peak RSS, index + shuffled epoch + 20k rendered",
        value: round(r.rssMiB!, 0),
        unit: "MiB",
        notes: `file ${round(bytes / 2 ** 20, 0)} MiB; order 4 bytes per record`,
      },
      {
        metric: "records rendered (shuffled)",
        value: round(r.examples! / (r.readMs! / 1000), 0),
        unit: "records/s",
      },
      {
        metric: "supervised.train, pipelined",
        value: round(piped, 2),
        unit: "steps/s",
        notes: `tinker-local/tiny, ${PIPELINE_STEPS} steps of 4`,
      },
      {
        metric: "supervised.train, each step awaited",
        value: round(awaited, 2),
        unit: "steps/s",
        notes: `ratio pipelined/awaited ${round(piped / awaited, 2)}`,
      },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await runIfMain(import.meta.url, { name, description, run });
