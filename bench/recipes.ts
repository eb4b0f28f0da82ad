// The cookbook's recipes: (1) the streaming conversation dataset on a JSONL file larger than 1 GB
// (generated into the OS temp dir, deleted after): index time, index size and the process's peak
// RSS while it reads a shuffled epoch; (2) supervised.train on tinker-local/tiny with pipelining
// (step k+1 submitted before step k is awaited) and without (each step awaited), same data and
// settings, in alternating order (piped first in even rounds, awaited first in odd ones) against
// one tinker-local spawned as its own process: a server in the bench's process would share its
// event loop with the client, and the client's waiting would then be the server's working.
//
// The server runs one model worker. With one per core, each new training model goes to the worker
// holding the fewest, so the rounds alternated between two workers and the pipelined rounds always
// landed on the second one, whose thread started (module load, base weights, JIT) inside the first
// pipelined round: that cold start, not pipelining, made the pipelined rows slower. The rate is
// taken between the first and the last step's metrics row, so it holds the steps only, not
// create_model and the final saves (the whole-run rates are in the notes).
//   npm run bench -- recipes
//   node --conditions=tinker-source --import tsx bench/recipes.ts   (table only, no doc)
import { spawn, spawnSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
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
const PIPELINE_STEPS = 16;
const PIPELINE_ROUNDS = 5;
const WARM_UP_STEPS = 4;

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

/** tinker-local as a child process; resolves with its URL, its pid and a stop function. */
async function spawnServer(
  dataDir: string,
): Promise<{ url: string; pid: number; stop: () => Promise<void> }> {
  const cli = join(REPO_ROOT, "packages/tinker-local/src/cli.ts");
  const proc = spawn(
    process.execPath,
    [
      "--conditions=tinker-source",
      "--import",
      "tsx",
      cli,
      "--port",
      "0",
      "--data-dir",
      dataDir,
      "--workers",
      "1",
    ],
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
  return { url, pid: proc.pid!, stop };
}

/**
 * CPU milliseconds a process has used (all its threads), from /proc on Linux; undefined elsewhere.
 * Read at 100 ticks a second (USER_HZ), so 10 ms is its resolution.
 */
function processCpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces, inside parentheses): utime is the 12th
    // and stime the 13th of them.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

/** One run of supervised.train: its step rate, whole-call rate and the server's CPU share. */
interface RunRate {
  /** Steps/s between the first and the last step's metrics row: the steps only. */
  steps: number;
  /** Steps/s over the whole call, with create_model and the final saves. */
  whole: number;
  /** Server CPU time over wall time between the same rows (1 = one core's worth); NaN if unknown. */
  serverCpu: number;
}

async function pipelineRun(
  server: { url: string; pid: number },
  pipeline: boolean,
  runDir: string,
  steps: number,
): Promise<RunRate> {
  const service = new ServiceClient({ baseUrl: server.url, apiKey: DEFAULT_LOCAL_API_KEY });
  try {
    const renderer = getRenderer("role_colon", await getTokenizer("tinker-local/tiny"));
    const rows: { at: number; cpu: number | undefined }[] = [];
    const t0 = performance.now();
    await supervised.train({
      service,
      model: "tinker-local/tiny",
      renderer,
      trainData: join(REPO_ROOT, "examples/data/kitchen-chat.jsonl"),
      runDir,
      batchSize: { examples: 4 },
      steps,
      learningRate: 0.01,
      maxLength: 128,
      saveEvery: steps,
      pipeline,
      progress: false,
      onMetrics: () => rows.push({ at: performance.now(), cpu: processCpuMs(server.pid) }),
    });
    const end = performance.now();
    const first = rows[0]!;
    const last = rows.at(-1)!;
    const cpu = first.cpu !== undefined && last.cpu !== undefined ? last.cpu - first.cpu : Number.NaN;
    return {
      steps: ((rows.length - 1) * 1000) / (last.at - first.at),
      whole: (steps * 1000) / (end - t0),
      serverCpu: cpu / (last.at - first.at),
    };
  } finally {
    await service.close();
  }
}

interface ModeRates {
  /** Medians over the rounds. */
  piped: RunRate;
  awaited: RunRate;
  /** Each round's pipelined/awaited step-rate ratio (the two runs of a round are adjacent). */
  ratios: number[];
  load: string;
}

const medianOf = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

function medianRate(runs: RunRate[]): RunRate {
  return {
    steps: medianOf(runs.map((r) => r.steps)),
    whole: medianOf(runs.map((r) => r.whole)),
    serverCpu: medianOf(runs.map((r) => r.serverCpu)),
  };
}

/**
 * Both modes over PIPELINE_ROUNDS rounds, the order flipped each round, so a change of the
 * machine's load hits both sides of a round alike; medians, so one disturbed round does not
 * decide the row.
 */
async function pipelineRows(dir: string): Promise<ModeRates> {
  const server = await spawnServer(join(dir, "server"));
  const load0 = loadavg()[0]!;
  try {
    // Worker start, base weights and the JIT of both code paths, before anything is timed.
    await pipelineRun(server, true, join(dir, "warm-up-piped"), WARM_UP_STEPS);
    await pipelineRun(server, false, join(dir, "warm-up-awaited"), WARM_UP_STEPS);
    const piped: RunRate[] = [];
    const awaited: RunRate[] = [];
    for (let i = 0; i < PIPELINE_ROUNDS; i++) {
      for (const pipeline of i % 2 === 0 ? [true, false] : [false, true]) {
        const runDir = join(dir, `${pipeline ? "piped" : "awaited"}-${i}`);
        (pipeline ? piped : awaited).push(await pipelineRun(server, pipeline, runDir, PIPELINE_STEPS));
      }
    }
    const load = `load average ${round(load0, 1)} → ${round(loadavg()[0]!, 1)} (1 min)`;
    return {
      piped: medianRate(piped),
      awaited: medianRate(awaited),
      ratios: piped.map((p, i) => p.steps / awaited[i]!.steps),
      load,
    };
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
    const { piped, awaited, ratios, load } = await pipelineRows(dir);
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
        value: round(piped.steps, 2),
        unit: "steps/s",
        notes: `tinker-local/tiny in its own process (1 worker, warmed up), ${PIPELINE_STEPS} steps of 4 between the first and last step's row, median of ${PIPELINE_ROUNDS} rounds (order flipped each round); whole run incl. create and saves ${round(piped.whole, 2)}; ${load}`,
      },
      {
        metric: "supervised.train, each step awaited",
        value: round(awaited.steps, 2),
        unit: "steps/s",
        notes: `whole run ${round(awaited.whole, 2)}`,
      },
      {
        metric: "supervised.train, pipelined/awaited",
        value: round(medianOf(ratios), 2),
        unit: "ratio",
        notes: `median of the rounds' ratios (${ratios.map((r) => round(r, 2)).join(", ")})`,
      },
      {
        metric: "tinker-local CPU during the steps, pipelined",
        value: round(piped.serverCpu * 100, 0),
        unit: "% of a core",
        notes: `each step awaited: ${round(awaited.serverCpu * 100, 0)} %; the server process (HTTP thread + model worker) from /proc, median of the rounds`,
      },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await runIfMain(import.meta.url, { name, description, run });
