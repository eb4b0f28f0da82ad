// Reinforcement learning through the tinker-ts SDK: teach a model to SHOUT. Each iteration samples
// a group of completions per prompt from the current policy, scores each completion by the share
// of its characters that are capital letters A-Z, and trains on the samples with group-relative
// advantages (reward minus the group's mean reward). Nobody shows the model an upper-case word:
// it finds out what pays from its own samples, and the mean reward climbs. What it settles on is
// the cheapest way to score, one capital letter over and over: RL optimises the reward as written,
// not as meant.
//
// By default it starts tinker-local in this process (no account needed) and trains
// `tinker-local/small`: the mean reward goes from about 0.1 (random bytes) to nearly 1 within
// 20 iterations, in well under a minute on two cores. With `--model tinker-local/tiny --lr 0.01`
// it takes a few seconds. With TINKER_BASE_URL and TINKER_API_KEY set it runs against that server
// instead; pick the model with --model (or TINKER_BASE_MODEL).
//
//   node --conditions=tinker-source --import tsx examples/rl-loop.ts
//   node --conditions=tinker-source --import tsx examples/rl-loop.ts --loss ppo --iterations 40
//   TINKER_BASE_URL=... TINKER_API_KEY=... node --import tsx examples/rl-loop.ts --model Qwen/Qwen3-4B-Instruct-2507
//
// Everything printed on stdout except the lines starting with "time" depends only on --seed and
// the other flags.

import {
  Datum,
  type LossFnConfig,
  type LossFnType,
  ModelInput,
  type SampledSequenceResult,
  type Tokenizer,
} from "tinker-ts";
import { type ExampleCli, exampleCli } from "./lib/args.js";
import { openBackend } from "./lib/backend.js";

// Flag checks and the tinker-local set-up are the same in every example: see lib/args.ts and
// lib/backend.ts.
const cli: ExampleCli = exampleCli(
  "rl-loop",
  "Reinforcement learning (importance_sampling or ppo) with a group-relative advantage; the reward rises.",
);

const flags = cli.parse({
  iterations: { type: "string", default: "30" },
  group: { type: "string", default: "8" },
  "max-tokens": { type: "string", default: "12" },
  lr: { type: "string", default: "0.001" },
  rank: { type: "string", default: "16" },
  loss: { type: "string", default: "importance_sampling" },
  "clip-low": { type: "string", default: "0.8" },
  "clip-high": { type: "string", default: "1.2" },
  seed: { type: "string", default: "0" },
});

const iterations = cli.positiveInt(flags.iterations, "--iterations");
const groupSize = cli.positiveInt(flags.group, "--group");
const maxTokens = cli.positiveInt(flags["max-tokens"], "--max-tokens");
const rank = cli.positiveInt(flags.rank, "--rank");
const seed = cli.nonNegativeInt(flags.seed, "--seed");
const learningRate = Number(flags.lr);
if (!(learningRate > 0)) cli.usage("--lr must be a positive number");
if (flags.loss !== "importance_sampling" && flags.loss !== "ppo") {
  cli.usage(`--loss must be importance_sampling or ppo, got ${flags.loss}`);
}
const lossFn: LossFnType = flags.loss;
const clipLow = Number(flags["clip-low"]);
const clipHigh = Number(flags["clip-high"]);
if (!(clipLow > 0 && clipLow <= 1 && clipHigh >= 1)) cli.usage("need 0 < --clip-low <= 1 <= --clip-high");
// PPO clips the ratio between the policy being trained and the one that sampled. Here each batch
// is used for one step, so the ratio is 1 and the clip only matters if you add more steps per batch.
const lossConfig: LossFnConfig | undefined =
  lossFn === "ppo" ? { clip_low_threshold: clipLow, clip_high_threshold: clipHigh } : undefined;

/** The prompts; every iteration samples a group of completions for each of them. */
const PROMPTS = ["Say it loud: ", "Tell me: ", "Quick, the news: ", "Again: "];

/** The generated text, without the end-of-sequence token the sampler keeps when it stops on it. */
function completionText(tokenizer: Tokenizer, sequence: SampledSequenceResult): string {
  return tokenizer.decode(sequence.tokens, { skipSpecialTokens: true });
}

/**
 * The reward: the share of the completion that is capital letters A-Z, counted against the token
 * budget when the text is shorter than it, so that stopping early to keep the share high does not
 * pay. (Against a plain share, policies learn to say "OOOO" and stop.) It stays within [0, 1].
 */
function shoutReward(text: string): number {
  const chars = [...text];
  const capitals = chars.filter((c) => c >= "A" && c <= "Z").length;
  return capitals / Math.max(chars.length, maxTokens);
}

/**
 * One training datum from a prompt and a sampled completion. The model input is the whole
 * sequence minus its last token; position i predicts token i+1. Completion positions carry the
 * completion's advantage and the sampler's log-probability of the token it drew, which importance
 * sampling divides by. Prompt positions get advantage 0 (the policy did not choose them), so they
 * add nothing to the loss; their logprobs are the sampler's too (asked for with the sample), which
 * keeps their ratio at 1 and PPO's clip_fraction about the completion only. Zeros would train the
 * same but count every prompt position as clipped.
 */
function rlDatum(
  prompt: number[],
  promptLogprobs: readonly (number | null)[],
  sequence: SampledSequenceResult,
  advantage: number,
): Datum {
  const { tokens, logprobs } = sequence;
  if (!logprobs || logprobs.length !== tokens.length) {
    throw new Error(
      "the sampler returned no logprobs for the sampled tokens; importance sampling needs them",
    );
  }
  // promptLogprobs[0] is null: nothing predicts the first token.
  const promptTargets = prompt.slice(1).map((_, i) => promptLogprobs[i + 1] ?? 0);
  const all = [...prompt, ...tokens];
  return Datum.create({
    modelInput: ModelInput.fromInts(all.slice(0, -1)),
    lossFnInputs: {
      target_tokens: all.slice(1),
      logprobs: [...promptTargets, ...logprobs],
      advantages: [...promptTargets.map(() => 0), ...tokens.map(() => advantage)],
    },
  });
}

function mean(xs: readonly number[]): number {
  return xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** An untrained model emits arbitrary bytes: show anything outside printable ASCII as "?". */
function printable(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, "?");
}

async function main(): Promise<void> {
  // The in-process tinker-local, or the server in TINKER_BASE_URL: see lib/backend.ts.
  const backend = await openBackend(flags, cli);
  const { service, model, close } = backend;
  try {
    console.log(
      `model ${model}, LoRA rank ${rank}, ${iterations} iterations of ${PROMPTS.length} prompts x ${groupSize} samples, ` +
        `${maxTokens} tokens each, loss ${lossFn}, lr ${learningRate}`,
    );
    // The tokenizer first: a missing one must fail before a (billed) training run exists.
    const tokenizer = await backend.tokenizer();
    const training = await service.createLoraTrainingClient(model, { rank, seed });
    const prompts = PROMPTS.map((p) => tokenizer.encode(p));

    const rewards: number[] = [];
    const started = performance.now();
    for (let it = 1; it <= iterations; it++) {
      // Sample from the weights as they are now: RL is on-policy, each iteration needs a new sampler.
      const sampler = await training.saveWeightsAndGetSamplingClient();
      // Temperature 1 and no top-k/top-p, so the returned logprobs are those of the policy that
      // sampled. The seed depends only on --seed, the iteration and the prompt: reruns repeat.
      const results = await Promise.all(
        prompts.map((prompt, p) =>
          sampler.sample(ModelInput.fromInts(prompt), {
            numSamples: groupSize,
            includePromptLogprobs: true,
            samplingParams: {
              maxTokens,
              temperature: 1,
              seed: (seed * 1_000_003 + it * PROMPTS.length + p) % 2 ** 31,
            },
          }),
        ),
      );

      const data: Datum[] = [];
      const iterationRewards: number[] = [];
      let shown = "";
      results.forEach((result, p) => {
        const texts = result.sequences.map((s) => completionText(tokenizer, s));
        const groupRewards = texts.map(shoutReward);
        iterationRewards.push(...groupRewards);
        // Group-relative advantage: better or worse than this prompt's other samples. A group where
        // every sample scored the same teaches nothing, so it adds no data.
        const baseline = mean(groupRewards);
        result.sequences.forEach((sequence, i) => {
          const advantage = (groupRewards[i] ?? 0) - baseline;
          if (advantage !== 0) {
            data.push(rlDatum(prompts[p] ?? [], result.promptLogprobs ?? [], sequence, advantage));
          }
        });
        if (p === 0) {
          const best = groupRewards.indexOf(Math.max(...groupRewards));
          shown = texts[best] ?? "";
        }
      });

      let metrics = "";
      if (data.length > 0) {
        // Submitted back to back: the SDK's turn gate keeps them in order on the server.
        const fb = training.forwardBackward(data, lossFn, lossConfig);
        const opt = training.optimStep({ learningRate });
        const [result] = await Promise.all([fb, opt]);
        const clipped = result.metrics["clip_fraction:mean"];
        if (clipped !== undefined) metrics = ` clipped ${clipped.toFixed(3)}`;
      }
      const reward = mean(iterationRewards);
      rewards.push(reward);
      console.log(
        `iter ${String(it).padStart(3)}/${iterations} reward ${reward.toFixed(3)} ${bar(reward)}${metrics}  best of group 1: ${JSON.stringify(printable(shown))}`,
      );
    }
    const seconds = (performance.now() - started) / 1000;

    const window = Math.max(1, Math.min(5, Math.floor(iterations / 3)));
    console.log(
      `\nmean reward: first ${window} iterations ${mean(rewards.slice(0, window)).toFixed(3)}, ` +
        `last ${window} iterations ${mean(rewards.slice(-window)).toFixed(3)}`,
    );
    console.log(`time: ${seconds.toFixed(1)} s, ${(iterations / seconds).toFixed(2)} iterations/s`);
  } finally {
    await close();
  }
}

/** The reward as a bar of 20 cells. */
function bar(reward: number, width = 20): string {
  const filled = Math.round(Math.min(1, Math.max(0, reward)) * width);
  return `[${"#".repeat(filled)}${".".repeat(width - filled)}]`;
}

await main();
