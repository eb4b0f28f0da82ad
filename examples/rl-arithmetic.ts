// RL with tinker-ts-cookbook's rl.train: teach a model small additions ("2+1=" -> "3") from its
// own samples. Each iteration asks a few problems, samples a group of answers to each from the
// current weights, scores them (1 for the exact sum; a small format reward for answering with
// digits at all, so an untrained model has something to learn from first) and trains on the
// group-centred advantages with importance sampling (--scale-std true divides them by the
// group's standard deviation; on tinker-local/small that blew tiny format differences up into
// full-size updates and collapsed the policy onto one digit). Every few iterations a
// sampling evaluator asks every problem of the distribution greedily and logs the share answered
// exactly (`accuracy`), which the format reward cannot inflate. With --env guessing it plays the
// multi-turn number-guessing game instead.
//
// The defaults suit tinker-local/small, a randomly initialised byte-level model: operands 0..2
// (--max-operand), one token per answer (--max-tokens 1: the answer is the first byte, so every
// sampled token is scored), 9 groups of 8 per iteration, and an entropy bonus of 0.1
// (--entropy-bonus; 0 turns it off): without it the policy collapsed onto one answer within a few
// iterations and never learned which sum goes with which problem (docs/recipes-rl.md has the runs).
// A chat model needs room for its end-of-turn token: --max-tokens 4.
//
// By default it starts tinker-local in this process and trains tinker-local/small with the
// role_colon renderer; the model name is a flag, so the same program runs unchanged against a
// twin of a hosted model on tinker-local or against the hosted service (TINKER_BASE_URL and
// TINKER_API_KEY set), with the model's recommended renderer:
//
//   node --conditions=tinker-source --import tsx examples/rl-arithmetic.ts
//   node --conditions=tinker-source --import tsx examples/rl-arithmetic.ts --env guessing
//   TINKER_BASE_URL=... TINKER_API_KEY=... node --import tsx examples/rl-arithmetic.ts \
//     --model Qwen/Qwen3-4B-Instruct-2507 --lr 4e-5 --max-tokens 16 --entropy-bonus 0
//
// The run folder (--run-dir; default <data-dir>/runs/rl-…) holds metrics.jsonl and the resume record: killed and restarted with
// the same command, the run continues from its last checkpoint. Delete it to start over.
//
// The last line of stdout is one JSON object:
//   {"model":…,"renderer":…,"env":…,"iterations":…,"rewardFirst5":…,"rewardLast5":…,
//    "accuracyFirst":…,"accuracyLast":…,"resumedFrom":…}

import { join, resolve } from "node:path";
import { getRenderer, plotRun, recommendedRenderer, rl } from "tinker-ts-cookbook";
import { type ExampleCli, exampleCli } from "./lib/args.js";
import { openBackend } from "./lib/backend.js";
import { recipeFlags, recipeSettings } from "./lib/recipe-flags.js";

const cli: ExampleCli = exampleCli(
  "rl-arithmetic",
  "Reinforcement learning on arithmetic problems with a reward computed in code.",
);

const flags = cli.parse({
  env: { type: "string", default: "arithmetic" },
  iterations: { type: "string", default: "30" },
  groups: { type: "string", default: "9" },
  "group-size": { type: "string", default: "8" },
  "max-tokens": { type: "string", default: "1" },
  "max-operand": { type: "string", default: "2" },
  temperature: { type: "string", default: "1" },
  "scale-std": { type: "string", default: "false" },
  "entropy-bonus": { type: "string", default: "0.1" },
  loss: { type: "string", default: "importance_sampling" },
  "eval-every": { type: "string", default: "5" },
  ...recipeFlags({ lr: "0.001", "save-every": "5" }),
});

if (flags.env !== "arithmetic" && flags.env !== "guessing")
  cli.usage(`--env must be arithmetic or guessing, got ${flags.env}`);
const iterations = cli.positiveInt(flags.iterations, "--iterations");
const groups = cli.positiveInt(flags.groups, "--groups");
const groupSize = cli.positiveInt(flags["group-size"], "--group-size");
const maxTokens = cli.positiveInt(flags["max-tokens"], "--max-tokens");
const maxOperand = cli.nonNegativeInt(flags["max-operand"], "--max-operand");
if (flags["scale-std"] !== "true" && flags["scale-std"] !== "false")
  cli.usage(`--scale-std must be true or false, got ${flags["scale-std"]}`);
const evalEvery = cli.positiveInt(flags["eval-every"], "--eval-every");
const entropyBonus = Number(flags["entropy-bonus"]);
if (!(entropyBonus >= 0 && Number.isFinite(entropyBonus)))
  cli.usage(`--entropy-bonus must be a number >= 0, got ${flags["entropy-bonus"]}`);
const temperature = Number(flags.temperature);
if (!(temperature > 0)) cli.usage(`--temperature must be a positive number, got ${flags.temperature}`);
const { learningRate, rank, seed, saveEvery, ...shared } = recipeSettings(flags, cli);
if (flags.loss !== "importance_sampling" && flags.loss !== "ppo")
  cli.usage(`--loss must be importance_sampling or ppo, got ${flags.loss}`);
const lossFn = flags.loss;

async function main(): Promise<void> {
  const backend = await openBackend(flags, cli);
  const { service, model, close } = backend;
  try {
    // The tokenizer first: a missing one must fail before a (billed) training run exists.
    const tokenizer = await backend.tokenizer();
    const rendererName = shared.renderer ?? recommendedRenderer(model);
    const renderer = getRenderer(rendererName, tokenizer);
    const runDir = resolve(
      shared.runDir ??
        join(flags["data-dir"], "runs", `rl-${flags.env}-${model.replaceAll("/", "_")}-seed${seed}`),
    );
    console.log(
      `model ${model}, renderer ${rendererName}, env ${flags.env}, ${iterations} iterations of ${groups} groups x ${groupSize}, lr ${learningRate}, run folder ${runDir}`,
    );
    const arithmetic = flags.env === "arithmetic";
    const source = arithmetic
      ? rl.arithmeticGroups(renderer, groups, groupSize, { maxOperand })
      : rl.guessingGroups(renderer, groups, groupSize);
    const summary = await rl.train({
      service,
      model,
      groups: source,
      // The environment's settings change the weights: they are part of the run's identity.
      envName: arithmetic ? `arithmetic(maxOperand=${maxOperand})` : "guessing",
      ...(arithmetic
        ? {
            samplingEvaluator: rl.arithmeticEvaluator(renderer, maxTokens, { maxOperand }),
            samplingEvalEvery: evalEvery,
          }
        : {}),
      scaleAdvantagesByStd: flags["scale-std"] === "true",
      entropyBonus,
      temperature,
      runDir,
      iterations,
      learningRate,
      lossFn,
      ...(lossFn === "ppo" ? { lossConfig: { clip_low_threshold: 0.8, clip_high_threshold: 1.2 } } : {}),
      rank,
      seed,
      maxTokens,
      maxTurns: 3,
      saveEvery,
      onMetrics: (row) =>
        console.log(
          `iter ${String(row.step).padStart(3)}/${iterations} reward ${row.reward.toFixed(3)} correct ${(row["env/correct"] ?? row["env/won"] ?? 0).toFixed(3)} datums ${row.datums} entropy ${row.entropy.toFixed(2)}${row.accuracy === undefined ? "" : ` greedy accuracy ${row.accuracy.toFixed(3)}`}`,
        ),
    });
    // The curves in the terminal, and report.html (one SVG chart per metric) in the run folder.
    const plot = await plotRun(runDir);
    console.log(`\n${plot.text}\nreport: ${plot.htmlPath}`);
    console.log(
      JSON.stringify({
        model,
        renderer: rendererName,
        env: flags.env,
        iterations: summary.iterations,
        rewardFirst5: summary.rewardFirst5,
        rewardLast5: summary.rewardLast5,
        accuracyFirst: summary.firstAccuracy ?? null,
        accuracyLast: summary.lastAccuracy ?? null,
        resumedFrom: summary.resumedFrom,
      }),
    );
  } finally {
    await close();
  }
}

await main();
