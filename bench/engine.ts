// The engine off the event loop: how the main thread answers while model work runs in the worker
// pool, and how throughput scales from one worker to two on independent models.
//   npm run bench -- engine
//   node --conditions=tinker-source --import tsx bench/engine.ts   (table only, no doc)
// The server runs in this process (startServer on 127.0.0.1, port 0); model work runs in its
// worker threads, so heartbeat latency during training is what a client sees from the main thread.
import { startServer } from "tinker-local";
import { type BenchResult, percentile, round, runIfMain, timeAsync } from "./lib.js";
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
const STEPS_PER_MODEL = 12;
/** A small-model step long enough to matter: 4 sequences of 64 tokens. */
const DATA = Array.from({ length: 4 }, () => wireDatum(textTokens(TEXT, 64)));

function latencyP(what: string, ms: readonly number[], notes: string): BenchResult[] {
  return [
    {
      metric: `${what} p50`,
      value: round(percentile(ms, 50), 2),
      unit: "ms",
      notes: `n=${ms.length}; ${notes}`,
    },
    { metric: `${what} p99`, value: round(percentile(ms, 99), 2), unit: "ms" },
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

/** Steps per second of two models, each running forward_backward back to back, in a pool of `workers`. */
async function throughput(workers: number): Promise<number> {
  const server = await startServer({ port: 0, workers });
  try {
    const { url } = server;
    const sessionId = await createSession(url);
    const models = await Promise.all([
      createModel(url, sessionId, 0, { rank: 8, seed: 1 }, SMALL),
      createModel(url, sessionId, 1, { rank: 8, seed: 2 }, SMALL),
    ]);
    const loop = async (modelId: string, steps: number, firstSeq: number) => {
      for (let i = 0; i < steps; i++) await forwardBackward(url, modelId, firstSeq + i, DATA);
    };
    // Warm-up: workers start and V8 optimises the kernels in each of them.
    await Promise.all(models.map((m) => loop(m, 2, 1)));
    const t0 = performance.now();
    await Promise.all(models.map((m) => loop(m, STEPS_PER_MODEL, 3)));
    return (2 * STEPS_PER_MODEL) / ((performance.now() - t0) / 1000);
  } finally {
    await server.close();
  }
}

export async function run(): Promise<BenchResult[]> {
  const rows = await heartbeatRows();
  const one = await throughput(1);
  const two = await throughput(2);
  const note = `two independent ${SMALL} models, forward_backward 4x64 tokens back to back, ${STEPS_PER_MODEL} steps each after 2 warm-ups`;
  rows.push(
    { metric: "forward_backward throughput, 1 worker", value: round(one, 2), unit: "steps/s", notes: note },
    { metric: "forward_backward throughput, 2 workers", value: round(two, 2), unit: "steps/s" },
    {
      metric: "scaling, 2 workers / 1 worker",
      value: round(two / one, 2),
      unit: "x",
      notes: "goal >= 1.7 on 2 cores",
    },
  );
  return rows;
}

await runIfMain(import.meta.url, { name, description, run });
