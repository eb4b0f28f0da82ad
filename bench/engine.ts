// The engine off the event loop: how the main thread answers while model work runs in the worker
// pool, and how throughput scales from one worker to two on independent models.
//   npm run bench -- engine
//   node --conditions=tinker-source --import tsx bench/engine.ts   (table only, no doc)
// The server runs in this process (startServer on 127.0.0.1, port 0); model work runs in its
// worker threads, so heartbeat latency during training is what a client sees from the main thread.
import { startServer } from "tinker-local";
import { type BenchResult, percentile, round as roundTo, runIfMain, timeAsync } from "./lib.js";
import {
  createModel,
  createSession,
  forwardBackward,
  heartbeat,
  textTokens,
  wireDatum,
} from "./tinker-http.js";

export const name = "engine";
export const description =
  "tinker-local's worker pool: heartbeat latency idle and while tinker-local/small trains, and forward_backward throughput with 1 vs 2 workers on two independent models.";

const SMALL = "tinker-local/small";
const TEXT = "The quick brown fox jumps over the lazy dog. ";
const HEARTBEATS = 200;
const STEPS_PER_ROUND = 5;
const ROUNDS = 2;
const round2 = (x: number) => roundTo(x, 2);
/** A small-model step long enough to matter: 4 sequences of 64 tokens. */
const DATA = Array.from({ length: 4 }, () => wireDatum(textTokens(TEXT, 64)));

function latencyP(what: string, ms: readonly number[], notes: string): BenchResult[] {
  return [
    {
      metric: `${what} p50`,
      value: roundTo(percentile(ms, 50), 2),
      unit: "ms",
      notes: `n=${ms.length}; ${notes}`,
    },
    { metric: `${what} p99`, value: roundTo(percentile(ms, 99), 2), unit: "ms" },
  ];
}

async function heartbeatRows(): Promise<BenchResult[]> {
  const server = await startServer({ port: 0, workers: 1 });
  try {
    const { url } = server;
    const sessionId = await createSession(url);
    const idle = await timeAsync(() => heartbeat(url, sessionId), HEARTBEATS, 20);
    const modelId = await createModel(url, sessionId, 0, { rank: 8 }, SMALL);
    let training = true;
    let steps = 0;
    const trainer = (async () => {
      let seq = 1;
      while (training) {
        await forwardBackward(url, modelId, seq++, DATA);
        steps++;
      }
    })();
    // Heartbeats start after two steps (kernels warm); the trainer keeps the worker busy throughout.
    while (steps < 2) await new Promise((resolve) => setTimeout(resolve, 10));
    const busy = await timeAsync(() => heartbeat(url, sessionId), HEARTBEATS, 0);
    training = false;
    await trainer;
    return [
      ...latencyP("session_heartbeat, idle", idle, "sequential, after 20 warm-ups"),
      ...latencyP(
        "session_heartbeat, while small trains",
        busy,
        `sequential, while one client runs forward_backward back to back (4x64 tokens, ${steps} steps) in a 1-worker pool`,
      ),
    ];
  } finally {
    await server.close();
  }
}

interface Pool {
  readonly server: Awaited<ReturnType<typeof startServer>>;
  readonly models: readonly string[];
  nextSeq: number;
}

/** A server with a pool of `workers` and two independent models, both warmed up (2 steps each). */
async function warmPool(workers: number): Promise<Pool> {
  const server = await startServer({ port: 0, workers });
  const { url } = server;
  const sessionId = await createSession(url);
  const models = await Promise.all([
    createModel(url, sessionId, 0, { rank: 8, seed: 1 }, SMALL),
    createModel(url, sessionId, 1, { rank: 8, seed: 2 }, SMALL),
  ]);
  const pool: Pool = { server, models, nextSeq: 1 };
  // Warm-up: workers start and V8 optimises the kernels in each of them.
  await runRound(pool, 2);
  return pool;
}

/** Both models run `steps` forward_backward back to back, side by side; returns steps per second. */
async function runRound(pool: Pool, steps: number): Promise<number> {
  const first = pool.nextSeq;
  pool.nextSeq += steps;
  const loop = async (modelId: string) => {
    for (let i = 0; i < steps; i++) await forwardBackward(pool.server.url, modelId, first + i, DATA);
  };
  const t0 = performance.now();
  await Promise.all(pool.models.map(loop));
  return (pool.models.length * steps) / ((performance.now() - t0) / 1000);
}

/**
 * Steps per second with 1 and with 2 workers: both pools stay up, and their rounds alternate
 * (1, 2, 1, 2, ...), so load that comes and goes on a shared machine hits both alike; the best
 * round of each counts.
 */
async function throughputs(): Promise<{ one: number; two: number; rounds: number }> {
  const one = await warmPool(1);
  const two = await warmPool(2);
  try {
    let bestOne = 0;
    let bestTwo = 0;
    for (let r = 0; r < ROUNDS; r++) {
      bestOne = Math.max(bestOne, await runRound(one, STEPS_PER_ROUND));
      bestTwo = Math.max(bestTwo, await runRound(two, STEPS_PER_ROUND));
    }
    return { one: bestOne, two: bestTwo, rounds: ROUNDS };
  } finally {
    await one.server.close();
    await two.server.close();
  }
}

export async function run(): Promise<BenchResult[]> {
  const rows = await heartbeatRows();
  const { one, two, rounds } = await throughputs();
  const note = `two independent ${SMALL} models, forward_backward 4x64 tokens back to back; best of ${rounds} rounds of ${STEPS_PER_ROUND} steps each, 1- and 2-worker rounds alternating, after 2 warm-up steps`;
  rows.push(
    { metric: "forward_backward throughput, 1 worker", value: round2(one), unit: "steps/s", notes: note },
    { metric: "forward_backward throughput, 2 workers", value: round2(two), unit: "steps/s" },
    {
      metric: "scaling, 2 workers / 1 worker",
      value: round2(two / one),
      unit: "x",
      notes: "goal >= 1.7 on 2 cores",
    },
  );
  return rows;
}

await runIfMain(import.meta.url, { name, description, run });
