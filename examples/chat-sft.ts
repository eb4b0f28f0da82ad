// Chat supervised fine-tuning with tinker-ts-cookbook's supervised.train: teach a model to answer
// as "Pip, a terse kitchen helper", from the small conversation set in
// examples/data/kitchen-chat.jsonl (written for this repository). The renderer turns each
// conversation into tokens and per-token weights (1 on the assistant's replies only); the loop
// streams the file in seeded epochs, trains with cross_entropy under a linear learning-rate decay,
// measures the NLL of the held-out conversations (examples/data/kitchen-chat-eval.jsonl) as it
// goes, and saves a resumable checkpoint every few steps. At the end it samples an answer to a
// held-out question with the renderer's stop sequences and parses it back to a message.
//
// The renderer is the model's recommended one (tinker-ts-cookbook's model registry), so the same
// program runs offline on tinker-local/small (a base model with a byte-level tokenizer:
// role_colon) and unchanged on a hosted chat model:
//
//   node --conditions=tinker-source --import tsx examples/chat-sft.ts
//   TINKER_BASE_URL=... TINKER_API_KEY=... node --import tsx examples/chat-sft.ts \
//     --model Qwen/Qwen3-4B-Instruct-2507 --lr 1e-4 --steps 20
//
// Flags: --steps, --batch, --lr, --rank, --seed, --model, --renderer (instead of the recommended
// one), --tokenizer (a local tokenizer.json), --max-length (cut examples to the model's context),
// --data (a JSONL file of {"messages": [...]}), --eval-data (held-out conversations), --eval-every,
// --save-every, --run-dir (metrics.jsonl and the resume record; default <data-dir>/runs/chat-sft-…),
// --data-dir (tinker-local's data). Killed and restarted with the same command, a run continues
// from its last checkpoint; a finished run folder just prints its summary again (delete it, or
// pass another --run-dir or --seed, to train anew).
//
// The last line of stdout is one JSON object summarising the run:
//   {"model":…,"renderer":…,"examples":…,"steps":…,"firstLoss":…,"lastLoss":…,"firstNll":…,
//    "lastNll":…,"answer":…,"parsedOk":…}

import { join, resolve } from "node:path";
import type { SamplingClient } from "tinker-ts";
import {
  getRenderer,
  type Message,
  plotRun,
  RecipeError,
  type Renderer,
  recommendedRenderer,
  supervised,
  textOf,
} from "tinker-ts-cookbook";
import { type ExampleCli, exampleCli } from "./lib/args.js";
import { openBackend } from "./lib/backend.js";
import { recipeFlags, recipeSettings } from "./lib/recipe-flags.js";

const cli: ExampleCli = exampleCli(
  "chat-sft",
  "Supervised fine-tuning on chat conversations rendered with the cookbook's chat renderers.",
);

const flags = cli.parse({
  steps: { type: "string", default: "40" },
  batch: { type: "string", default: "4" },
  "max-length": { type: "string" },
  data: { type: "string", default: new URL("data/kitchen-chat.jsonl", import.meta.url).pathname },
  "eval-data": {
    type: "string",
    default: new URL("data/kitchen-chat-eval.jsonl", import.meta.url).pathname,
  },
  "eval-every": { type: "string", default: "5" },
  ...recipeFlags({ lr: "0.003", "save-every": "10" }),
});

const steps = cli.positiveInt(flags.steps, "--steps");
const batchSize = cli.positiveInt(flags.batch, "--batch");
const maxLength =
  flags["max-length"] === undefined ? undefined : cli.positiveInt(flags["max-length"], "--max-length");
const evalEvery = cli.positiveInt(flags["eval-every"], "--eval-every");
const { learningRate, rank, seed, saveEvery, ...shared } = recipeSettings(flags, cli);

const HELD_OUT: Message[] = [
  { role: "system", content: "You are Pip, a terse kitchen helper." },
  { role: "user", content: "Oven 375 F in C?" },
];

/** Training examples per epoch (a conversation can give several); reads the file once. */
function countExamples(renderer: Renderer, path: string): number {
  const file = supervised.JsonlFile.open(path);
  try {
    let n = 0;
    for (let i = 0; i < file.length; i++) {
      const messages = supervised.messagesOf(file.record(i), `${path}: record ${i}`);
      n += supervised.renderConversation(messages, { renderer, ...(maxLength ? { maxLength } : {}) }).length;
    }
    return n;
  } finally {
    file.close();
  }
}

async function answer(renderer: Renderer, sampler: SamplingClient) {
  const result = await sampler.sample(renderer.buildGenerationPrompt(HELD_OUT), {
    samplingParams: { maxTokens: 24, temperature: 0, stop: renderer.stopSequences() },
  });
  return renderer.parseResponse(result.sequences[0]?.tokens ?? []);
}

async function main(): Promise<void> {
  const backend = await openBackend(flags, cli);
  const { service, model, close } = backend;
  try {
    // Tokenizer, renderer and data first: a mistake in any of them must fail before a (billed)
    // training run exists.
    const tokenizer = await backend.tokenizer();
    const rendererName = shared.renderer ?? recommendedRenderer(model);
    const renderer = getRenderer(rendererName, tokenizer);
    let examples: number;
    try {
      examples = countExamples(renderer, flags.data);
    } catch (e) {
      if (e instanceof RecipeError) cli.usage(e.message);
      throw e;
    }
    const runDir = resolve(
      shared.runDir ?? join(flags["data-dir"], "runs", `chat-sft-${model.replaceAll("/", "_")}-seed${seed}`),
    );
    console.log(
      `model ${model}, renderer ${rendererName}, ${examples} examples, ${steps} steps of ${batchSize}, LoRA rank ${rank}, lr ${learningRate}, run folder ${runDir}`,
    );

    const started = performance.now();
    const summary = await supervised.train({
      service,
      model,
      renderer,
      trainData: flags.data,
      evalData: flags["eval-data"],
      runDir,
      batchSize: { examples: batchSize },
      steps,
      learningRate,
      schedule: { kind: "linear" },
      rank,
      seed,
      ...(maxLength ? { maxLength } : {}),
      evalEvery,
      saveEvery,
      onMetrics: (row) => {
        const nll = row.nll === undefined ? "" : ` held-out nll ${row.nll.toFixed(4)}`;
        const loss = row.loss === undefined ? "" : ` loss ${row.loss.toFixed(4)}`;
        console.log(`step ${String(row.step).padStart(3)}/${steps}${loss}${nll}`);
      },
    });
    const seconds = (performance.now() - started) / 1000;
    if (summary.resumedFrom > 0) console.log(`resumed from step ${summary.resumedFrom}`);
    if (summary.truncated > 0)
      console.log(
        `${summary.truncated} examples were cut to --max-length (${summary.cutTokens} tokens dropped)`,
      );

    const sampler = await service.createSamplingClient({ modelPath: summary.samplerPath as string });
    const parsed = await answer(renderer, sampler);
    const text = textOf(parsed.message.content);
    console.log(`\n${HELD_OUT[1]!.content as string} -> ${JSON.stringify(text)} (${parsed.termination})`);
    console.log(`time: ${seconds.toFixed(1)} s of training`);
    // The curves in the terminal, and report.html (one SVG chart per metric) in the run folder.
    const plot = await plotRun(runDir);
    console.log(`\n${plot.text}\nreport: ${plot.htmlPath}`);
    console.log(
      JSON.stringify({
        model,
        renderer: rendererName,
        examples,
        steps: summary.steps,
        firstLoss: summary.firstLoss,
        lastLoss: summary.lastLoss,
        firstNll: summary.firstNll,
        lastNll: summary.lastNll,
        answer: text,
        parsedOk: parsed.ok,
      }),
    );
  } finally {
    await close();
  }
}

await main();
