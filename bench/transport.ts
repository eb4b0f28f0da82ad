// The SDK's HTTP transport against a bare node:http keep-alive client, all in one run, server and
// clients in separate processes: sequential forward latency and client CPU per call, 100 pipelined
// forward_backward + optim_step pairs, and 1,000 concurrent sample() calls (throughput, peak client
// RSS and where it goes, warnings, stderr). Variants: bare; the SDK's default Node transport
// (node:http keep-alive pools; chosen over undici by this benchmark, see docs/benchmarks.md) and the
// SDK over globalThis.fetch (the `fetch` option).
//   npm run bench -- transport
//   node --conditions=tinker-source --import tsx bench/transport.ts   (table only, no doc)
// The clients run on plain node against the built SDK (packages/tinker/dist, rebuilt here when a
// source file is newer), so tsx's own memory is not counted in their RSS.
import { type ChildProcess, execFile, fork } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { type BenchResult, median, percentile, REPO_ROOT, runIfMain } from "./lib.js";

export const name = "transport";
export const description =
  "The SDK's transport (its default node:http pools, and the fetch option) against a bare node:http keep-alive client, one run, tinker-local/tiny in another process: sequential forward, 100 pipelined train steps, 1,000 concurrent sample() calls.";

const VARIANTS = ["bare", "sdk", "sdk-fetch"] as const;
type Variant = (typeof VARIANTS)[number];
const LABEL: Record<Variant, string> = {
  bare: "bare node:http",
  sdk: "SDK node:http (default)",
  "sdk-fetch": "SDK fetch option",
};
const LATENCY_ROUNDS = 3;
const BURST_ROUNDS = 2;
const CHILD_TIMEOUT_MS = 300_000;
const MiB = 1024 * 1024;

interface LatencyOut {
  forwardMs: number[];
  forwardCpuMs: number[];
  stepsPerSecond: number[];
}

interface MemoryPeaks {
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
}

interface BurstOut {
  variant: Variant;
  ms: number;
  rssBeforeBytes: number;
  maxRssBytes: number;
  memoryBefore: MemoryPeaks;
  memoryPeak: MemoryPeaks;
  warnings: string[];
}

const SDK_DIR = join(REPO_ROOT, "packages", "tinker");

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith(".ts"))
      newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

function exec(command: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { cwd: REPO_ROOT, timeout: CHILD_TIMEOUT_MS, maxBuffer: 64 * MiB },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`${args.join(" ")} failed: ${error.message}\n${stderr}`));
        else resolve({ stdout, stderr });
      },
    );
  });
}

/** The client processes import the built SDK: build it when a source file is newer than the build. */
async function ensureBuilt(): Promise<void> {
  let built = 0;
  try {
    built = statSync(join(SDK_DIR, "dist", "index.js")).mtimeMs;
  } catch {}
  if (built >= newestMtime(join(SDK_DIR, "src"))) return;
  await exec(process.execPath, [
    join(REPO_ROOT, "node_modules", "typescript", "bin", "tsc"),
    "-p",
    join(SDK_DIR, "tsconfig.build.json"),
  ]);
}

function startServer(): Promise<{ child: ChildProcess; url: string }> {
  const child = fork(join(REPO_ROOT, "bench", "transport-server.ts"), [], {
    cwd: REPO_ROOT,
    execArgv: ["--conditions=tinker-source", "--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  return new Promise((resolve, reject) => {
    child.once("message", (m: { url: string }) => resolve({ child, url: m.url }));
    child.once("exit", (code) =>
      reject(new Error(`transport-server exited (code ${code}) before it was ready`)),
    );
  });
}

/** Runs one client process; its stdout's last line is its JSON result, its stderr is kept. */
async function client<T>(args: string[]): Promise<{ result: T; stderr: string }> {
  const { stdout, stderr } = await exec(process.execPath, [
    join(REPO_ROOT, "bench", "transport-child.mjs"),
    ...args,
  ]);
  const last = stdout.trim().split("\n").pop() ?? "";
  return { result: JSON.parse(last) as T, stderr };
}

const ms = (value: number, what: string, notes?: string): BenchResult => ({
  metric: what,
  value,
  unit: "ms",
  ...(notes ? { notes } : {}),
});

export async function run(): Promise<BenchResult[]> {
  await ensureBuilt();
  const server = await startServer();
  try {
    const rows: BenchResult[] = [];
    const latency = await client<Record<Variant, LatencyOut>>([
      "latency",
      server.url,
      String(LATENCY_ROUNDS),
    ]);
    const bareFwd = median(latency.result.bare.forwardMs);
    const bareSteps = median(latency.result.bare.stepsPerSecond);
    for (const v of VARIANTS) {
      const o = latency.result[v];
      const p50 = median(o.forwardMs);
      rows.push(
        ms(
          p50,
          `forward p50, ${LABEL[v]}`,
          `n=${o.forwardMs.length} sequential, ${LATENCY_ROUNDS} interleaved rounds; p95 ${percentile(o.forwardMs, 95).toFixed(2)} ms`,
        ),
      );
      if (v !== "bare") rows.push(ms(p50 - bareFwd, `forward overhead over bare, ${LABEL[v]}`));
      rows.push(
        ms(
          median(o.forwardCpuMs),
          `forward client CPU per call, ${LABEL[v]}`,
          "user + system of the client process",
        ),
      );
    }
    for (const v of VARIANTS) {
      const steps = median(latency.result[v].stepsPerSecond);
      rows.push({
        metric: `100 pipelined fwd_bwd+optim pairs, ${LABEL[v]}`,
        value: steps,
        unit: "steps/s",
        notes: `${((steps / bareSteps) * 100).toFixed(0)} % of bare; median of ${LATENCY_ROUNDS}`,
      });
    }
    if (latency.stderr.trim() !== "")
      rows.push({
        metric: "latency client stderr",
        value: latency.stderr.length,
        unit: "bytes",
        notes: latency.stderr.trim().split("\n")[0] ?? "",
      });

    const bursts = new Map<Variant, { outs: BurstOut[]; stderr: string }>();
    for (let round = 0; round < BURST_ROUNDS; round++) {
      for (const v of VARIANTS) {
        const { result, stderr } = await client<BurstOut>(["burst", server.url, v]);
        const entry = bursts.get(v) ?? { outs: [], stderr: "" };
        entry.outs.push(result);
        entry.stderr += stderr;
        bursts.set(v, entry);
      }
    }
    const rate = (o: BurstOut) => 1000 / (o.ms / 1000);
    const bareRate = median((bursts.get("bare")?.outs ?? []).map(rate));
    for (const v of VARIANTS) {
      const { outs, stderr } = bursts.get(v) ?? { outs: [], stderr: "" };
      const r = median(outs.map(rate));
      const peak = Math.max(...outs.map((o) => o.maxRssBytes)) / MiB;
      const before = median(outs.map((o) => o.rssBeforeBytes)) / MiB;
      const warnings = outs.flatMap((o) => o.warnings);
      rows.push({
        metric: `1,000 concurrent sample(), ${LABEL[v]}`,
        value: r,
        unit: "samples/s",
        notes: `${((r / bareRate) * 100).toFixed(0)} % of bare; median of ${outs.length} processes`,
      });
      rows.push({
        metric: `  peak client RSS, ${LABEL[v]}`,
        value: peak,
        unit: "MiB",
        notes: `max over the processes; ${before.toFixed(0)} MiB before the burst`,
      });
      const heapPeak = Math.max(...outs.map((o) => o.memoryPeak.heapUsed)) / MiB;
      const heapBefore = median(outs.map((o) => o.memoryBefore.heapUsed)) / MiB;
      const externalPeak = Math.max(...outs.map((o) => o.memoryPeak.external)) / MiB;
      const heapTotalPeak = Math.max(...outs.map((o) => o.memoryPeak.heapTotal)) / MiB;
      rows.push({
        metric: `  peak V8 heap used, ${LABEL[v]}`,
        value: heapPeak,
        unit: "MiB",
        notes: `${heapBefore.toFixed(0)} MiB before; heap total peak ${heapTotalPeak.toFixed(0)} MiB, external peak ${externalPeak.toFixed(0)} MiB (10 ms samples)`,
      });
      rows.push({
        metric: `  warnings + stderr, ${LABEL[v]}`,
        value: warnings.length + (stderr.trim() === "" ? 0 : 1),
        unit: "count",
        notes:
          warnings.length > 0
            ? warnings[0]!
            : stderr.trim() === ""
              ? "nothing on stderr"
              : stderr.trim().split("\n")[0]!,
      });
    }
    return rows;
  } finally {
    server.child.disconnect();
  }
}

await runIfMain(import.meta.url, { name, description, run });
