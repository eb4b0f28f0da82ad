// Supervised fine-tuning through the tinker-ts SDK: teach a model to upper-case words it has never
// seen ("maple=" -> "MAPLE"). The base model cannot do it; after a couple of hundred LoRA steps on
// random letter strings it can, on held-out real words.
//
// By default it starts tinker-local in this process (no account needed) and trains
// `tinker-local/small`. With TINKER_BASE_URL and TINKER_API_KEY set it runs against that server
// instead; pick the model with --model (or TINKER_BASE_MODEL) and, since tinker-ts downloads no
// tokenizers, point --tokenizer at that model's local tokenizer.json.
//
//   npm run demo                                   # the README's main job
//   npm run demo -- --steps 50 --model tinker-local/tiny
//   TINKER_BASE_URL=... TINKER_API_KEY=... npm run demo -- --model Qwen/Qwen3-4B-Instruct-2507 \
//     --tokenizer ~/models/Qwen3-4B-Instruct-2507/tokenizer.json
//
// Everything printed on stdout except the lines starting with "time" depends only on --seed and
// the other flags: two runs with the same flags print the same losses and samples.

import { Datum, ModelInput, type SamplingClient, type Tokenizer } from "tinker-ts";
import { type ExampleCli, exampleCli } from "./lib/args.js";
import { openBackend } from "./lib/backend.js";
import { prng, randomWord } from "./lib/random.js";

// Flag checks and the tinker-local set-up are the same in every example: see lib/args.ts and
// lib/backend.ts.
const cli: ExampleCli = exampleCli(
  "sft-demo",
  "Supervised fine-tuning: teaches the model to upper-case words it has never seen (npm run demo).",
);

const flags = cli.parse({
  steps: { type: "string", default: "250" },
  batch: { type: "string", default: "16" },
  lr: { type: "string", default: "0.003" },
  rank: { type: "string", default: "32" },
  seed: { type: "string", default: "0" },
});

const steps = cli.positiveInt(flags.steps, "--steps");
const batchSize = cli.positiveInt(flags.batch, "--batch");
const rank = cli.positiveInt(flags.rank, "--rank");
const seed = Number.parseInt(flags.seed, 10);
const learningRate = Number(flags.lr);
if (!(learningRate > 0)) cli.usage("--lr must be a positive number");

/** Held-out words: never in the training data, which is random letter strings. */
const TEST_WORDS = ["maple", "noble", "orbit", "pearl", "quilt", "robin", "solar", "tulip", "vapor", "wheat"];

/** "word=" is the prompt and "WORD\n" the completion; only the completion is trained on. */
function example(tokenizer: Tokenizer, word: string): { datum: Datum; weight: number } {
  const prompt = tokenizer.encode(`${word}=`);
  const completion = tokenizer.encode(`${word.toUpperCase()}\n`);
  const tokens = [...prompt, ...completion];
  const weights = tokens.map((_, i) => (i >= prompt.length ? 1 : 0));
  return {
    datum: Datum.create({
      modelInput: ModelInput.fromInts(tokens.slice(0, -1)),
      lossFnInputs: { target_tokens: tokens.slice(1), weights: weights.slice(1) },
    }),
    weight: completion.length,
  };
}

async function answers(sampler: SamplingClient, tokenizer: Tokenizer): Promise<string[]> {
  const futures = TEST_WORDS.map((word) =>
    sampler.sample(ModelInput.fromInts(tokenizer.encode(`${word}=`)), {
      samplingParams: { maxTokens: 8, temperature: 0, stop: ["\n"] },
    }),
  );
  const results = await Promise.all(futures);
  return results.map((r) => printable(tokenizer.decode(r.sequences[0]?.tokens ?? []).replace(/\n$/, "")));
}

/** An untrained model emits arbitrary bytes: show anything outside printable ASCII as "?". */
function printable(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, "?");
}

function bar(done: number, total: number, width = 24): string {
  const filled = Math.round((done / total) * width);
  return `[${"#".repeat(filled)}${".".repeat(width - filled)}]`;
}

async function main(): Promise<void> {
  // The in-process tinker-local, or the server in TINKER_BASE_URL: see lib/backend.ts.
  const backend = await openBackend(flags, cli);
  const { service, model, close } = backend;
  try {
    console.log(
      `model ${model}, LoRA rank ${rank}, ${steps} steps of ${batchSize} examples, lr ${learningRate} decaying linearly to 0`,
    );
    // The tokenizer first: a missing one must fail before a (billed) training run exists.
    const tokenizer = await backend.tokenizer();
    const training = await service.createLoraTrainingClient(model, { rank, seed });

    const before = await answers(await training.saveWeightsAndGetSamplingClient(), tokenizer);

    const random = prng(seed);
    const losses: number[] = [];
    const started = performance.now();
    for (let step = 1; step <= steps; step++) {
      const batch = Array.from({ length: batchSize }, () => example(tokenizer, randomWord(random)));
      // Submitted back to back: the SDK's turn gate keeps them in order, the server runs them in order.
      const fb = training.forwardBackward(
        batch.map((b) => b.datum),
        "cross_entropy",
      );
      // The learning rate decays linearly to zero: late steps polish instead of overshooting.
      const opt = training.optimStep({ learningRate: learningRate * (1 - (step - 1) / steps) });
      const [result] = await Promise.all([fb, opt]);
      const tokens = batch.reduce((sum, b) => sum + b.weight, 0);
      const loss = (result.metrics["loss:sum"] ?? Number.NaN) / tokens;
      losses.push(loss);
      console.log(`step ${String(step).padStart(4)}/${steps} ${bar(step, steps)} loss ${loss.toFixed(4)}`);
    }
    const seconds = (performance.now() - started) / 1000;

    const after = await answers(await training.saveWeightsAndGetSamplingClient(), tokenizer);
    const checkpoint = await training.saveState("uppercase-final");

    console.log("\nheld-out words     before         after");
    let correct = 0;
    TEST_WORDS.forEach((word, i) => {
      const ok = after[i] === word.toUpperCase();
      if (ok) correct++;
      console.log(
        `  ${`${word}=`.padEnd(16)} ${JSON.stringify(before[i]).padEnd(14)} ${JSON.stringify(after[i])}${ok ? "  ok" : ""}`,
      );
    });
    console.log(`\nloss: first step ${losses[0]?.toFixed(4)}, last step ${losses.at(-1)?.toFixed(4)}`);
    console.log(`held-out accuracy after training: ${correct}/${TEST_WORDS.length}`);
    // The path holds the run id the server assigned, new on every run: on stderr, so stdout stays
    // a function of the flags as the header promises.
    console.error(`checkpoint: ${checkpoint.path}`);
    console.log(`time: ${seconds.toFixed(1)} s of training, ${(steps / seconds).toFixed(2)} steps/s`);
  } finally {
    await close();
  }
}

await main();
