// @ts-check
// The client processes of the transport benchmark (bench/transport.ts forks them; plain node, the
// built SDK, so what is measured is what a user's process runs, without tsx in it). Two modes, each
// printing one JSON line on stdout:
//   latency <url> <rounds>   every variant in this one process, interleaved round by round (so a
//                            burst of load on the shared machine hits all of them alike): sequential
//                            forward calls (latency and this process's CPU per call) and 100
//                            pipelined forward_backward + optim_step pairs (steps/s)
//   burst <url> <variant>    1,000 sample() calls at once in a process of its own, so that its peak
//                            RSS is that variant's alone; also the warnings Node emitted
import { Datum, ServiceClient } from "tinker-ts";
import { BareClient } from "./transport-bare.mjs";

/** @typedef {"bare" | "sdk" | "sdk-fetch"} Variant */
/** @type {Variant[]} */
const VARIANTS = ["bare", "sdk", "sdk-fetch"];
const MODEL = "tinker-local/tiny";
const FORWARDS_PER_ROUND = 50;
const PIPELINED_STEPS = 100;
const CONCURRENT_SAMPLES = 1000;
const MAX_TOKENS = 4;
const PROMPT = [...Buffer.from("The quick brown fox", "utf8")];
const DATUM_TOKENS = [...Buffer.from("The quick brown fox jumps over the lazy dog.", "utf8")];

/** @param {Variant} variant @param {string} url */
function sdkClient(variant, url) {
  /** @type {import("tinker-ts").ClientOptions} */
  const options = { apiKey: "tml-local-dev", baseUrl: url, logLevel: "warn" };
  if (variant === "sdk-fetch") options.fetch = globalThis.fetch;
  return new ServiceClient(options);
}

/**
 * A variant ready to train: `forward()` runs one sequential forward; `pipeline(n)` submits n
 * forward_backward + optim_step pairs without waiting and resolves when all are done.
 * @param {Variant} variant @param {string} url
 */
async function trainer(variant, url) {
  if (variant === "bare") {
    const bare = new BareClient(url);
    const modelId = await bare.createModel(await bare.createSession(), MODEL, 2);
    const datum = Datum.forNextTokenPrediction(DATUM_TOKENS).toWire();
    let seq = 0;
    return {
      forward: async () => (await bare.submitForwardBackward(modelId, ++seq, [datum], true)).result,
      /** @param {number} n */
      pipeline: async (n) => {
        const results = [];
        for (let i = 0; i < n; i++) {
          results.push((await bare.submitForwardBackward(modelId, ++seq, [datum], false)).result);
          results.push((await bare.submitOptimStep(modelId, ++seq)).result);
        }
        await Promise.all(results);
      },
      close: async () => bare.close(),
    };
  }
  const client = sdkClient(variant, url);
  const training = await client.createLoraTrainingClient(MODEL, { rank: 2 });
  const datum = Datum.forNextTokenPrediction(DATUM_TOKENS);
  return {
    forward: () => training.forward([datum], "cross_entropy"),
    /** @param {number} n */
    pipeline: async (n) => {
      const results = [];
      for (let i = 0; i < n; i++) {
        results.push(training.forwardBackward([datum], "cross_entropy"));
        results.push(training.optimStep({ learningRate: 1e-3 }));
      }
      await Promise.all(results);
    },
    close: () => client.close(),
  };
}

/** @param {string} url @param {number} rounds */
async function latency(url, rounds) {
  /** @type {({ variant: Variant } & Awaited<ReturnType<typeof trainer>>)[]} */
  const trainers = [];
  for (const v of VARIANTS) trainers.push({ variant: v, ...(await trainer(v, url)) });
  /** @type {Record<string, { forwardMs: number[], forwardCpuMs: number[], stepsPerSecond: number[] }>} */
  const out = {};
  for (const t of trainers) {
    out[t.variant] = { forwardMs: [], forwardCpuMs: [], stepsPerSecond: [] };
    for (let i = 0; i < 10; i++) await t.forward();
    await t.pipeline(10);
  }
  for (let round = 0; round < rounds; round++) {
    // A different order each round, so no variant always runs first (or right after another one).
    const order = trainers.map((_, i) => trainers[(i + round) % trainers.length]);
    for (const t of order) {
      if (!t) continue;
      const o = /** @type {NonNullable<(typeof out)[string]>} */ (out[t.variant]);
      const cpu0 = process.cpuUsage();
      for (let i = 0; i < FORWARDS_PER_ROUND; i++) {
        const t0 = performance.now();
        await t.forward();
        o.forwardMs.push(performance.now() - t0);
      }
      const cpu = process.cpuUsage(cpu0);
      o.forwardCpuMs.push((cpu.user + cpu.system) / 1000 / FORWARDS_PER_ROUND);
      const t0 = performance.now();
      await t.pipeline(PIPELINED_STEPS);
      o.stepsPerSecond.push(PIPELINED_STEPS / ((performance.now() - t0) / 1000));
    }
  }
  for (const t of trainers) await t.close();
  return out;
}

/** @param {string} url @param {Variant} variant */
async function burst(url, variant) {
  /** @type {string[]} */
  const warnings = [];
  process.on("warning", (w) => warnings.push(`${w.name}: ${w.message}`));
  /** @type {(seed: number) => Promise<unknown>} */
  let sample;
  /** @type {() => Promise<void>} */
  let close;
  if (variant === "bare") {
    const bare = new BareClient(url);
    const sampler = await bare.createSamplingSession(await bare.createSession(), MODEL);
    sample = (seed) => bare.sample(sampler, PROMPT, MAX_TOKENS, seed);
    close = async () => bare.close();
  } else {
    const client = sdkClient(variant, url);
    const sampler = await client.createSamplingClient({ baseModel: MODEL });
    sample = (seed) =>
      sampler.sample(PROMPT, { samplingParams: { maxTokens: MAX_TOKENS, seed, temperature: 1 } });
    close = () => client.close();
  }
  for (let i = 0; i < 20; i++) await sample(i);
  const rssBeforeBytes = process.memoryUsage().rss;
  // Where the burst's memory goes: the peaks of the V8 heap and of memory outside it (Buffers and
  // other ArrayBuffers, native allocations), sampled every 10 ms while it runs.
  const peak = { heapUsed: 0, heapTotal: 0, external: 0, arrayBuffers: 0 };
  const probe = () => {
    const m = process.memoryUsage();
    peak.heapUsed = Math.max(peak.heapUsed, m.heapUsed);
    peak.heapTotal = Math.max(peak.heapTotal, m.heapTotal);
    peak.external = Math.max(peak.external, m.external);
    peak.arrayBuffers = Math.max(peak.arrayBuffers, m.arrayBuffers);
  };
  probe();
  const before = { ...peak };
  const sampler = setInterval(probe, 10);
  const t0 = performance.now();
  const results = await Promise.all(Array.from({ length: CONCURRENT_SAMPLES }, (_, i) => sample(20 + i)));
  const ms = performance.now() - t0;
  clearInterval(sampler);
  probe();
  if (results.length !== CONCURRENT_SAMPLES) throw new Error(`got ${results.length} results`);
  await close();
  // Warnings are emitted on a later tick.
  await new Promise((r) => setImmediate(r));
  // resourceUsage().maxRSS is in kilobytes.
  return {
    variant,
    ms,
    rssBeforeBytes,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    memoryBefore: before,
    memoryPeak: peak,
    warnings,
  };
}

const [mode, url, arg] = process.argv.slice(2);
if (!url) throw new Error("usage: transport-child.mjs latency|burst <url> <rounds|variant>");
const result =
  mode === "latency" ? await latency(url, Number(arg ?? 3)) : await burst(url, /** @type {Variant} */ (arg));
process.stdout.write(`${JSON.stringify(result)}\n`);
