// Memory of a tinker-local server process: RSS, heapUsed and arrayBuffers when idle, after 20
// sessions, after a tiny LoRA model in each, after 50 training steps, and after unload_model of
// every model.
//   npm run bench -- memory
//   node --conditions=tinker-source --import tsx bench/memory.ts   (table only, no doc)
// The server runs in a child process (bench/memory-server.ts) started with --expose-gc; this
// process drives it over loopback HTTP and asks it over IPC for process.memoryUsage() after a full
// collection, so the client's own allocations are not counted.
import { type ChildProcess, fork } from "node:child_process";
import { join } from "node:path";
import { type BenchResult, REPO_ROOT, runIfMain } from "./lib.js";
import type { ChildMessage, ParentMessage } from "./memory-server.js";
import {
  createModel,
  createSession,
  forwardBackward,
  heartbeat,
  optimStep,
  textTokens,
  unloadModel,
  wireDatum,
} from "./tinker-http.js";

export const name = "memory";
export const description =
  "RSS, heapUsed and arrayBuffers of a tinker-local server process (child, after forced GC) through sessions, models, training and unload.";

const SESSIONS = 20;
const STEPS = 50;
const BATCH = 4;
const TOKENS = 64;
const REPLY_TIMEOUT_MS = 30_000;
const MiB = 1024 * 1024;

class ServerChild {
  private readonly waiting: ((message: ChildMessage) => void)[] = [];

  private constructor(private readonly child: ChildProcess) {
    child.on("message", (message: ChildMessage) => this.waiting.shift()?.(message));
  }

  static start(): ServerChild {
    const child = fork(join(REPO_ROOT, "bench", "memory-server.ts"), [], {
      cwd: REPO_ROOT,
      execArgv: ["--expose-gc", "--conditions=tinker-source", "--import", "tsx"],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    return new ServerChild(child);
  }

  /** The next message from the child, or an error after REPLY_TIMEOUT_MS or if it exits first. */
  next<T extends ChildMessage["type"]>(type: T): Promise<Extract<ChildMessage, { type: T }>> {
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null) => {
        clearTimeout(timer);
        reject(new Error(`memory-server exited (code ${code}) while waiting for "${type}"`));
      };
      const timer = setTimeout(() => {
        this.child.off("exit", onExit);
        reject(new Error(`memory-server sent no "${type}" within ${REPLY_TIMEOUT_MS} ms`));
      }, REPLY_TIMEOUT_MS);
      this.child.once("exit", onExit);
      this.waiting.push((message) => {
        clearTimeout(timer);
        this.child.off("exit", onExit);
        if (message.type === type) resolve(message as Extract<ChildMessage, { type: T }>);
        else reject(new Error(`memory-server sent "${message.type}", expected "${type}"`));
      });
    });
  }

  async ask<T extends ChildMessage["type"]>(message: ParentMessage, reply: T) {
    const answer = this.next(reply);
    this.child.send(message);
    return answer;
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill();
  }
}

export async function run(): Promise<BenchResult[]> {
  const child = ServerChild.start();
  try {
    const { url } = await child.next("ready");
    const readings: { label: string; rss: number; heap: number; buffers: number }[] = [];
    let gcUsed = true;
    const measure = async (label: string) => {
      const { usage, gc } = await child.ask({ type: "measure" }, "memory");
      gcUsed &&= gc;
      readings.push({
        label,
        rss: usage.rss / MiB,
        heap: usage.heapUsed / MiB,
        buffers: usage.arrayBuffers / MiB,
      });
    };

    await measure("idle server");

    const sessions: string[] = [];
    for (let i = 0; i < SESSIONS; i++) {
      const id = await createSession(url);
      await heartbeat(url, id);
      sessions.push(id);
    }
    await measure(`${SESSIONS} sessions`);

    const models: string[] = [];
    for (const sessionId of sessions) models.push(await createModel(url, sessionId, 0, { rank: 8 }));
    await measure(`+ ${SESSIONS} tiny models (LoRA rank 8)`);

    const text = "Once upon a time there was a small model that learned to count bytes. ";
    const data = Array.from({ length: BATCH }, (_, i) => wireDatum(textTokens(text.slice(i) + text, TOKENS)));
    const nextSeq = new Map(models.map((m) => [m, 1]));
    for (let step = 0; step < STEPS; step++) {
      const modelId = models[step % models.length]!;
      const seq = nextSeq.get(modelId)!;
      await forwardBackward(url, modelId, seq, data);
      await optimStep(url, modelId, seq + 1);
      nextSeq.set(modelId, seq + 2);
    }
    await measure(`+ ${STEPS} training steps`);

    for (const modelId of models) await unloadModel(url, modelId);
    await measure(`after unload_model of all ${SESSIONS}`);

    const { maxRssBytes } = await child.ask({ type: "measure" }, "memory");
    await child.ask({ type: "close" }, "closed");

    const base = readings[0]!;
    const rows: BenchResult[] = [];
    for (const [i, r] of readings.entries()) {
      const delta = (x: number) => `${x >= 0 ? "+" : ""}${x.toFixed(1)} MiB vs idle`;
      const first = i === 0;
      rows.push({
        metric: `RSS, ${r.label}`,
        value: r.rss,
        unit: "MiB",
        notes: first ? "includes tsx's loader (sources compiled on the fly)" : delta(r.rss - base.rss),
      });
      rows.push({
        metric: `heapUsed, ${r.label}`,
        value: r.heap,
        unit: "MiB",
        notes: first
          ? gcUsed
            ? "every reading after gc() twice"
            : "gc() unavailable: readings include uncollected garbage"
          : delta(r.heap - base.heap),
      });
      rows.push({
        metric: `arrayBuffers, ${r.label}`,
        value: r.buffers,
        unit: "MiB",
        notes: first
          ? "typed arrays and Buffers outside the JS heap (model weights live here)"
          : delta(r.buffers - base.buffers),
      });
    }
    rows.push({
      metric: "peak RSS over the run",
      value: maxRssBytes / MiB,
      unit: "MiB",
      notes: `training: ${STEPS} x (forward_backward ${BATCH}x${TOKENS} tokens + optim_step), round robin over the models`,
    });
    return rows;
  } finally {
    child.kill();
  }
}

await runIfMain(import.meta.url, { name, description, run });
