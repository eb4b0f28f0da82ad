// Chat supervised fine-tuning with a renderer: teach a model to answer as "Pip, a terse kitchen
// helper", from the small conversation set in examples/data/kitchen-chat.jsonl (written for this
// repository). The renderer turns each conversation into tokens and per-token weights (1 on the
// assistant's replies only); the loop trains on them with cross_entropy; at the end it samples an
// answer to a held-out question with the renderer's stop sequences and parses it back to a message.
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
// --data (a JSONL file of {"messages": [...]}), --data-dir (tinker-local's data).
//
// The last line of stdout is one JSON object summarising the run:
//   {"model":…,"renderer":…,"examples":…,"steps":…,"firstLoss":…,"lastLoss":…,"answer":…,"parsedOk":…}

import { readFileSync } from "node:fs";
import type { Datum, SamplingClient } from "tinker-ts";
import {
  buildSupervisedExamples,
  datumFromExample,
  getRenderer,
  type Message,
  type Renderer,
  recommendedRenderer,
  textOf,
} from "tinker-ts-cookbook";
import { type ExampleCli, exampleCli } from "./lib/args.js";
import { openBackend } from "./lib/backend.js";
import { prng } from "./lib/random.js";

const cli: ExampleCli = exampleCli(
  "chat-sft",
  "Supervised fine-tuning on chat conversations rendered with the cookbook's chat renderers.",
);

const flags = cli.parse({
  steps: { type: "string", default: "40" },
  batch: { type: "string", default: "4" },
  lr: { type: "string", default: "0.003" },
  rank: { type: "string", default: "16" },
  seed: { type: "string", default: "0" },
  renderer: { type: "string" },
  "max-length": { type: "string" },
  data: { type: "string", default: new URL("data/kitchen-chat.jsonl", import.meta.url).pathname },
});

const steps = cli.positiveInt(flags.steps, "--steps");
const batchSize = cli.positiveInt(flags.batch, "--batch");
const rank = cli.positiveInt(flags.rank, "--rank");
const seed = cli.nonNegativeInt(flags.seed, "--seed");
const maxLength =
  flags["max-length"] === undefined ? undefined : cli.positiveInt(flags["max-length"], "--max-length");
const learningRate = Number(flags.lr);
if (!(learningRate > 0)) cli.usage("--lr must be a positive number");

const HELD_OUT: Message[] = [
  { role: "system", content: "You are Pip, a terse kitchen helper." },
  { role: "user", content: "Oven 375 F in C?" },
];

function readConversations(path: string): Message[][] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    cli.usage(`cannot read --data ${path}: ${(e as Error).message}`);
  }
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line, i) => {
      const row = JSON.parse(line) as { messages?: Message[] };
      if (!Array.isArray(row.messages)) cli.usage(`${path}:${i + 1} has no "messages" array`);
      return row.messages;
    });
}

/**
 * One or more training examples per conversation: every assistant reply is trained. A renderer
 * that never rewrites history does that in one sequence; one that does (qwen3 drops old thinking)
 * gets one example per reply, each ending at that reply, as it would be sampled.
 */
function examplesOf(renderer: Renderer, conversation: Message[]): { datum: Datum; weight: number }[] {
  const examples = buildSupervisedExamples(renderer, conversation, { trainOn: "all_assistant_messages" });
  // Cut to the model's context when asked (tinker-local/tiny reads 128 tokens, small 256).
  return examples.map((e) => ({
    datum: datumFromExample(e, maxLength === undefined ? {} : { maxLength }),
    weight: e.weights.slice(1, maxLength).reduce((a, b) => a + b, 0),
  }));
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
    const rendererName = flags.renderer ?? recommendedRenderer(model);
    const renderer = getRenderer(rendererName, tokenizer);
    const data = readConversations(flags.data).flatMap((c) => examplesOf(renderer, c));
    console.log(
      `model ${model}, renderer ${rendererName}, ${data.length} examples, ${steps} steps of ${batchSize}, LoRA rank ${rank}, lr ${learningRate}`,
    );

    const training = await service.createLoraTrainingClient(model, { rank, seed });
    const random = prng(seed);
    const losses: number[] = [];
    const started = performance.now();
    for (let step = 1; step <= steps; step++) {
      const batch = Array.from({ length: batchSize }, () => data[Math.floor(random() * data.length)]!);
      const fb = training.forwardBackward(
        batch.map((b) => b.datum),
        "cross_entropy",
      );
      const opt = training.optimStep({ learningRate: learningRate * (1 - (step - 1) / steps) });
      const [result] = await Promise.all([fb, opt]);
      const loss = (result.metrics["loss:sum"] ?? Number.NaN) / batch.reduce((s, b) => s + b.weight, 0);
      losses.push(loss);
      console.log(`step ${String(step).padStart(3)}/${steps} loss ${loss.toFixed(4)}`);
    }
    const seconds = (performance.now() - started) / 1000;

    const parsed = await answer(renderer, await training.saveWeightsAndGetSamplingClient());
    const text = textOf(parsed.message.content);
    console.log(`\n${HELD_OUT[1]!.content as string} -> ${JSON.stringify(text)} (${parsed.termination})`);
    console.log(`time: ${seconds.toFixed(1)} s of training`);
    console.log(
      JSON.stringify({
        model,
        renderer: rendererName,
        examples: data.length,
        steps,
        firstLoss: losses[0],
        lastLoss: losses.at(-1),
        answer: text,
        parsedOk: parsed.ok,
      }),
    );
  } finally {
    await close();
  }
}

await main();
