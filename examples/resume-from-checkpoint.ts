// Resuming training from a checkpoint through the tinker-ts SDK. A run trains a few steps, saves
// its state (weights and Adam's moments) with saveState, and keeps going. A second training client
// is created from that checkpoint with the optimizer state and trains on the same batches: its
// losses are the uninterrupted run's, bit for bit. A third one restores the weights only; its
// losses drift away, because Adam restarts from zero moments and step 1.
//
// By default it starts tinker-local in this process (no account needed) and trains
// `tinker-local/small`. With TINKER_BASE_URL and TINKER_API_KEY set it runs against that server
// instead; pick the model with --model (or TINKER_BASE_MODEL). A hosted service need not be
// bit-for-bit deterministic, so there the losses may differ in the last digits.
//
//   node --conditions=tinker-source --import tsx examples/resume-from-checkpoint.ts
//   node --conditions=tinker-source --import tsx examples/resume-from-checkpoint.ts --model tinker-local/tiny
//
// Everything printed on stdout except the lines starting with "time" depends only on --seed and
// the other flags. The exit code is 1 when the resumed run does not match the uninterrupted one.

import { Datum, type Tokenizer, type TrainingClient } from "tinker-ts";
import { type ExampleCli, exampleCli } from "./lib/args.js";
import { openBackend } from "./lib/backend.js";
import { prng, randomWord } from "./lib/random.js";

// Flag checks and the tinker-local set-up are the same in every example: see lib/args.ts and
// lib/backend.ts.
const cli: ExampleCli = exampleCli(
  "resume-from-checkpoint",
  "saveState, then resume with and without the optimizer state; compares the losses.",
);

const flags = cli.parse({
  "steps-before": { type: "string", default: "5" },
  "steps-after": { type: "string", default: "5" },
  batch: { type: "string", default: "8" },
  lr: { type: "string", default: "0.003" },
  rank: { type: "string", default: "16" },
  seed: { type: "string", default: "0" },
});

const stepsBefore = cli.positiveInt(flags["steps-before"], "--steps-before");
const stepsAfter = cli.positiveInt(flags["steps-after"], "--steps-after");
const batchSize = cli.positiveInt(flags.batch, "--batch");
const rank = cli.positiveInt(flags.rank, "--rank");
const seed = Number.parseInt(flags.seed, 10);
if (!Number.isInteger(seed)) cli.usage(`--seed must be an integer, got ${flags.seed}`);
const learningRate = Number(flags.lr);
if (!(learningRate > 0)) cli.usage("--lr must be a positive number");

/**
 * The batch of a given step: upper-casing random words, as in sft-demo.ts. It depends only on the
 * seed and the step number, so every run below sees exactly the same data at the same step.
 */
function batchFor(tokenizer: Tokenizer, step: number): { data: Datum[]; tokens: number } {
  const random = prng(seed * 100_003 + step);
  const data: Datum[] = [];
  let tokens = 0;
  for (let i = 0; i < batchSize; i++) {
    const word = randomWord(random);
    const prompt = tokenizer.encode(`${word}=`);
    const completion = tokenizer.encode(`${word.toUpperCase()}\n`);
    // Loss only on the completion: weight 0 for the prompt's tokens.
    const weights = [...prompt.map(() => 0), ...completion.map(() => 1)];
    data.push(Datum.forNextTokenPrediction([...prompt, ...completion], { weights }));
    tokens += completion.length;
  }
  return { data, tokens };
}

/** One training step; returns the loss per completion token, measured before the update. */
async function trainStep(training: TrainingClient, tokenizer: Tokenizer, step: number): Promise<number> {
  const { data, tokens } = batchFor(tokenizer, step);
  const fb = training.forwardBackward(data, "cross_entropy");
  const opt = training.optimStep({ learningRate });
  const [result] = await Promise.all([fb, opt]);
  return (result.metrics["loss:sum"] ?? Number.NaN) / tokens;
}

async function main(): Promise<void> {
  // The in-process tinker-local, or the server in TINKER_BASE_URL: see lib/backend.ts.
  const backend = await openBackend(flags, cli);
  const { service, model, close } = backend;
  let matched = false;
  try {
    console.log(`model ${model}, LoRA rank ${rank}, batches of ${batchSize}, lr ${learningRate}`);
    const started = performance.now();
    // The tokenizer first: a missing one must fail before a (billed) training run exists.
    const tokenizer = await backend.tokenizer();
    const original = await service.createLoraTrainingClient(model, { rank, seed });

    console.log(`\ntraining ${stepsBefore} steps`);
    for (let step = 1; step <= stepsBefore; step++) {
      const loss = await trainStep(original, tokenizer, step);
      console.log(`  step ${String(step).padStart(3)}  loss ${loss.toFixed(6)}`);
    }
    // Weights and optimizer state, as tinker://<run>/weights/<name>. The name must be new within
    // the run; a fresh run (new client) can reuse it.
    const { path } = await original.saveState(`resume-demo-step-${stepsBefore}`);
    console.log(`saved state after step ${stepsBefore}`);
    console.error(`checkpoint: ${path}`);

    // Two clients restored from the checkpoint. Restoring creates a new training run: the
    // checkpoint stays as it was, whatever the original run does next.
    const resumed = await service.createTrainingClientFromState(path, { withOptimizer: true });
    const weightsOnly = await service.createTrainingClientFromState(path);

    const columns = {
      uninterrupted: original,
      "resumed (+optimizer)": resumed,
      "resumed (weights only)": weightsOnly,
    };
    const losses: Record<string, number[]> = {};
    for (const [name, client] of Object.entries(columns)) {
      losses[name] = [];
      for (let step = stepsBefore + 1; step <= stepsBefore + stepsAfter; step++) {
        losses[name].push(await trainStep(client, tokenizer, step));
      }
    }

    console.log(`\ncontinuing from step ${stepsBefore + 1}`);
    console.log(
      `  step  ${Object.keys(columns)
        .map((c) => c.padStart(24))
        .join("")}`,
    );
    for (let i = 0; i < stepsAfter; i++) {
      const row = Object.keys(columns).map((c) => (losses[c]?.[i] ?? Number.NaN).toFixed(6).padStart(24));
      console.log(`  ${String(stepsBefore + 1 + i).padStart(4)}  ${row.join("")}`);
    }

    // Compared exactly, not to printed precision: a resumed run is the same computation.
    const same = (a: number[] | undefined, b: number[] | undefined) =>
      a !== undefined && b !== undefined && a.length === b.length && a.every((x, i) => Object.is(x, b[i]));
    matched = same(losses.uninterrupted, losses["resumed (+optimizer)"]);
    console.log(
      `\nresumed with optimizer state: ${matched ? "identical to the uninterrupted run" : "DIFFERENT from the uninterrupted run"}`,
    );
    // The first resumed step starts from the same weights, so its loss agrees either way; the
    // update after it is where fresh Adam moments make a difference.
    const first = (losses["resumed (weights only)"] ?? []).findIndex(
      (x, i) => !Object.is(x, losses.uninterrupted?.[i]),
    );
    console.log(
      `resumed with weights only: ${first < 0 ? "identical to the uninterrupted run" : `different from step ${stepsBefore + 1 + first} on (Adam restarted from zero moments)`}`,
    );
    console.log(`time: ${((performance.now() - started) / 1000).toFixed(1)} s`);
  } finally {
    await close();
  }
  if (!matched) process.exitCode = 1;
}

await main();
