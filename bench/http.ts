// Latency and throughput of tinker-local over HTTP: session_heartbeat, create_session, and a full
// forward_backward round trip (protobuf body, submit, long-polled retrieve_future, decode).
//   npm run bench -- http
//   node --conditions=tinker-source --import tsx bench/http.ts   (table only, no doc)
// The server runs in this process (startServer on 127.0.0.1, port 0), so client and server share
// one event loop: latencies include both sides' work. Requests go through Node's global fetch
// (undici) with keep-alive connections.
import { createModel as createLocalModel, type Datum, startServer } from "tinker-local";
import { type BenchResult, latencyRows, median, runIfMain, timeAsync, timeSync } from "./lib.js";
import {
  createModel,
  createSession,
  forwardBackward,
  heartbeat,
  TINY,
  textTokens,
  wireDatum,
} from "./tinker-http.js";

export const name = "http";
export const description =
  "tinker-local over loopback HTTP, server in the same process: endpoint latencies and heartbeat throughput.";

const HEARTBEATS = 200;
const SESSIONS = 100;
const FB_STEPS = 40;
const FB_TOKENS = 128;
const CLIENTS = 8;
const THROUGHPUT_REQUESTS = 4000;
const TEXT = "The quick brown fox jumps over the lazy dog. ";

/** `clients` loops sharing one counter until `total` requests are done; returns requests/second. */
async function throughput(clients: number, total: number, request: () => Promise<void>): Promise<number> {
  let issued = 0;
  const client = async () => {
    while (issued < total) {
      issued++;
      await request();
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: clients }, client));
  return total / ((performance.now() - t0) / 1000);
}

export async function run(): Promise<BenchResult[]> {
  const server = await startServer({ port: 0 });
  try {
    const { url } = server;
    const rows: BenchResult[] = [];
    const sessionId = await createSession(url);

    const beats = await timeAsync(() => heartbeat(url, sessionId), HEARTBEATS, 20);
    rows.push(...latencyRows("session_heartbeat", beats, "sequential, after 20 warm-ups"));

    const sessions = await timeAsync(() => createSession(url), SESSIONS, 5);
    rows.push(
      ...latencyRows("create_session", sessions, "sequential, after 5 warm-ups; one SQLite insert each"),
    );

    const modelId = await createModel(url, sessionId, 0, { rank: 8 });
    const tokens = textTokens(TEXT, FB_TOKENS);
    const data = [wireDatum(tokens)];
    let seq = 1;
    const steps = await timeAsync(
      async () => {
        const out = await forwardBackward(url, modelId, seq++, data);
        if (out.loss_fn_outputs.length !== 1) throw new Error("forward_backward lost its datum");
      },
      FB_STEPS,
      5,
    );
    rows.push(
      ...latencyRows(
        `forward_backward round trip, tiny 1x${FB_TOKENS}`,
        steps,
        "protobuf body and result: encode, submit, long-polled retrieve_future, decode; LoRA rank 8 on every module; after 5 warm-ups",
      ),
    );
    // The same step without HTTP, so the difference is what the server and the wire add.
    const local = createLocalModel(TINY, { rank: 8 });
    const targets = tokens.slice(1);
    const localData: Datum[] = [
      {
        tokens: tokens.slice(0, -1),
        lossFnInputs: {
          target_tokens: { dtype: "int64", data: targets },
          weights: { dtype: "float32", data: targets.map(() => 1) },
        },
      },
    ];
    const direct = median(timeSync(() => local.forwardBackward(localData, "cross_entropy"), 15, 3));
    rows.push({
      metric: `forward_backward model call only, tiny 1x${FB_TOKENS}`,
      value: direct,
      unit: "ms",
      notes: "median of 15; the same step without HTTP, for comparison",
    });

    await throughput(CLIENTS, 200, () => heartbeat(url, sessionId)); // opens the connections
    const rps = await throughput(CLIENTS, THROUGHPUT_REQUESTS, () => heartbeat(url, sessionId));
    rows.push({
      metric: `session_heartbeat throughput, ${CLIENTS} concurrent clients`,
      value: Math.round(rps),
      unit: "req/s",
      notes: `${THROUGHPUT_REQUESTS} requests after 200 warm-ups; client and server on one event loop`,
    });
    return rows;
  } finally {
    await server.close();
  }
}

await runIfMain(import.meta.url, { name, description, run });
