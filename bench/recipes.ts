// The cookbook's recipes: (1) the streaming conversation dataset on a JSONL file larger than 1 GB
// (generated into the OS temp dir, deleted after): index time, index size and the process's peak
// RSS while it reads a shuffled epoch; (2) supervised.train on tinker-local/tiny with pipelining
// (step k+1 submitted before step k is awaited) and without (each step awaited), same data and
// settings, alternating (piped, awaited, piped, awaited, …) in this run against one tinker-local
// spawned as its own process: a server in the bench's process would share its event loop with
// the client, and the client's waiting would then be the server's working.
//   npm run bench -- recipes
//   node --conditions=tinker-source --import tsx bench/recipes.ts   (table only, no doc)
import { spawn, spawnSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { DEFAULT_LOCAL_API_KEY } from "tinker-local";
import { getTokenizer, ServiceClient } from "tinker-ts";
import { getRenderer, supervised } from "tinker-ts-cookbook";
import { type BenchResult, REPO_ROOT, round, runIfMain } from "./lib.js";

export const name = "recipes";
export const description =
  "Cookbook recipes: the streaming JSONL dataset on a generated 1.1 GB file (index time, index size, peak RSS of a child process reading a shuffled epoch), and supervised.train steps/s on tinker-local/tiny with pipelining vs awaiting each step.";

const TARGET_BYTES = 1.1e9;
const PIPELINE_STEPS = 12;
const PIPELINE_ROUNDS = 2;

/**
 * Writes conversations of varied length until the file passes `bytes`. The 2,100 distinct lines
 * (lengths cycling as before) are serialised once and written in 16 MiB chunks, instead of
 * serialising 1.3 million lines one by one: the dataset indexes and reads each record the same
 * way whatever its text.
 */
function writeBigJsonl(path: string, bytes: number): number {
  const filler = "flour sugar butter salt eggs milk ".repeat(40);
  const lines = Array.from(
    { length: 2100 },
    (_, i) =>
      `${JSON.stringify({
        messages: [
          { role: "user", content: `Question ${i}: ${filler.slice(0, 200 + (i % 700))}` },
          { role: "assistant", content: `Answer ${i}: ${filler.slice(0, 50 + (i % 300))}` },
        ],
      })}\n`,
  );
  const block = Buffer.from(lines.join(""));
  const chunk = Buffer.concat(
    Array.from({ length: Math.max(1, Math.floor(2 ** 24 / block.length)) }, () => block),
  );
  const fd = openSync(path, "w");
  let written = 0;
  try {
    while (written < bytes) written += writeSync(fd, chunk);
  } finally {
    closeSync(fd);
  }
  return written;
}

/** tinker-local as a child process; resolves with its URL and a stop function. */
async function spawnServer(dataDir: string): Promise<{ url: string; stop: () => Promise<void> }> {
  const cli = join(REPO_ROOT, "packages/tinker-local/src/cli.ts");
  const proc = spawn(
    process.execPath,
    ["--conditions=tinker-source", "--import", "tsx", cli, "--port", "0", "--data-dir", dataDir],
    { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "inherit"] },
  );
  // A bench killed midway must not leave its server behind.
  const orphan = () => proc.kill("SIGKILL");
  process.once("exit", orphan);
  process.once("SIGTERM", () => process.exit(143));
  process.once("SIGINT", () => process.exit(130));
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    proc.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const m = out.match(/listening on (\S+)/);
      if (m) resolve(m[1]!);
    });
    proc.on("exit", (code) => reject(new Error(`tinker-local exited ${code} before listening`)));
  });
  const stop = () =>
    new Promise<void>((resolve) => {
      process.off("exit", orphan);
      proc.once("exit", () => resolve());
      proc.kill("SIGTERM");
    });
  return { url, stop };
}

async function pipelineRun(url: string, pipeline: boolean, runDir: string): Promise<number> {
  const service = new ServiceClient({ baseUrl: url, apiKey: DEFAULT_LOCAL_API_KEY });
  try {
    const renderer = getRenderer("role_colon", await getTokenizer("tinker-local/tiny"));
    const t0 = performance.now();
    await supervised.train({
      service,
      model: "tinker-local/tiny",
      renderer,
      trainData: join(REPO_ROOT, "examples/data/kitchen-chat.jsonl"),
      runDir,
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
  }
}

/** Mean steps/s of each mode over PIPELINE_ROUNDS alternating rounds, with the load average. */
async function pipelineRows(dir: string): Promise<{ piped: number; awaited: number; load: string }> {
  const server = await spawnServer(join(dir, "server"));
  const load0 = loadavg()[0]!;
  try {
    await pipelineRun(server.url, true, join(dir, "warm-up")); // model load, JIT
    const piped: number[] = [];
    const awaited: number[] = [];
    for (let i = 0; i < PIPELINE_ROUNDS; i++) {
      piped.push(await pipelineRun(server.url, true, join(dir, `piped-${i}`)));
      awaited.push(await pipelineRun(server.url, false, join(dir, `awaited-${i}`)));
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const load = `load average ${round(load0, 1)} → ${round(loadavg()[0]!, 1)} (1 min)`;
    return { piped: mean(piped), awaited: mean(awaited), load };
  } finally {
    await server.stop();
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
    const { piped, awaited, load } = await pipelineRows(dir);
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
        notes: `tinker-local/tiny in its own process, ${PIPELINE_STEPS} steps of 4, mean of ${PIPELINE_ROUNDS} alternating rounds; ${load}`,
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
