// Saving, listing and downloading checkpoints through the tinker-ts SDK. A short training run saves
// its state (saveState: weights + optimizer, for resuming) and its weights for sampling
// (saveWeightsForSampler: what you would serve or export). The example then lists your checkpoints
// with the RestClient, downloads the sampler checkpoint as a PEFT adapter directory, and reads the
// tensor names out of adapter_model.safetensors without any library: a safetensors file starts
// with an 8-byte little-endian header length, then that many bytes of JSON describing the tensors.
//
// By default it starts tinker-local in this process (no account needed) and trains
// `tinker-local/small`. With TINKER_BASE_URL and TINKER_API_KEY set it runs against that server
// instead; pick the model with --model (or TINKER_BASE_MODEL).
//
//   node --conditions=tinker-source --import tsx examples/download-checkpoint.ts
//   node --conditions=tinker-source --import tsx examples/download-checkpoint.ts --out ./my-adapter
//
// Everything printed on stdout depends only on --seed and the other flags, except the lines
// starting with "time" and the checkpoint listing: tinker:// paths hold the run id the server
// assigns, and the listing shows every checkpoint you have, from earlier runs too.

import { closeSync, openSync, readFileSync, readSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { Datum, type DownloadProgress } from "tinker-ts";
import { type ExampleCli, exampleCli } from "./lib/args.js";
import { openBackend } from "./lib/backend.js";

// Flag checks and the tinker-local set-up are the same in every example: see lib/args.ts and
// lib/backend.ts.
const cli: ExampleCli = exampleCli(
  "download-checkpoint",
  "Saves checkpoints, lists them, downloads one and reads its safetensors header.",
);

const flags = cli.parse({
  steps: { type: "string", default: "3" },
  rank: { type: "string", default: "8" },
  lr: { type: "string", default: "0.003" },
  seed: { type: "string", default: "0" },
  "list-limit": { type: "string", default: "10" },
  out: { type: "string" },
});

const steps = cli.positiveInt(flags.steps, "--steps");
const rank = cli.positiveInt(flags.rank, "--rank");
const listLimit = cli.positiveInt(flags["list-limit"], "--list-limit");
const seed = Number.parseInt(flags.seed, 10);
if (!Number.isInteger(seed)) cli.usage(`--seed must be an integer, got ${flags.seed}`);
const learningRate = Number(flags.lr);
if (!(learningRate > 0)) cli.usage("--lr must be a positive number");
const outDir = resolve(flags.out ?? join(flags["data-dir"], "downloaded-adapter"));

interface TensorEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

/**
 * The header of a safetensors file: a u64 little-endian byte count N, then N bytes of JSON mapping
 * tensor names to {dtype, shape, data_offsets}, plus an optional "__metadata__" of strings. The
 * tensor data follows; only the header is read here.
 */
function readSafetensorsHeader(file: string): {
  tensors: Record<string, TensorEntry>;
  metadata: Record<string, string>;
} {
  const fd = openSync(file, "r");
  try {
    const prefix = Buffer.alloc(8);
    if (readSync(fd, prefix, 0, 8, 0) !== 8) throw new Error(`${file} is too short to be a safetensors file`);
    const length = prefix.readBigUInt64LE(0);
    const size = statSync(file).size;
    if (length > BigInt(size - 8))
      throw new Error(`${file}: header length ${length} exceeds the file (${size} bytes)`);
    const header = Buffer.alloc(Number(length));
    readSync(fd, header, 0, header.length, 8);
    const parsed = JSON.parse(header.toString("utf8")) as Record<string, unknown>;
    const { __metadata__: metadata, ...tensors } = parsed;
    return {
      tensors: tensors as Record<string, TensorEntry>,
      metadata: (metadata ?? {}) as Record<string, string>,
    };
  } finally {
    closeSync(fd);
  }
}

async function main(): Promise<void> {
  // The in-process tinker-local, or the server in TINKER_BASE_URL: see lib/backend.ts.
  const backend = await openBackend(flags, cli);
  const { service, model, close } = backend;
  try {
    const started = performance.now();
    console.log(`model ${model}, LoRA rank ${rank}, ${steps} steps`);
    // The tokenizer first: a missing one must fail before a (billed) training run exists.
    const tokenizer = await backend.tokenizer();
    const training = await service.createLoraTrainingClient(model, { rank, seed });
    // Something to train on, so the adapter is not all zeros (a fresh LoRA B matrix is).
    const datum = Datum.forNextTokenPrediction(
      tokenizer.encode("the quick brown fox jumps over the lazy dog\n"),
    );
    for (let step = 1; step <= steps; step++) {
      const fb = training.forwardBackward([datum], "cross_entropy");
      const opt = training.optimStep({ learningRate });
      const [result] = await Promise.all([fb, opt]);
      const perToken = (result.metrics["loss:sum"] ?? Number.NaN) / datum.modelInput.length;
      console.log(`step ${step}/${steps} loss ${perToken.toFixed(4)}`);
    }

    // Names must be new within a run; each run of this example is a new run.
    const state = await training.saveState("download-demo-state");
    const sampler = await training.saveWeightsForSampler("download-demo-sampler");
    console.log("saved weights/download-demo-state and sampler_weights/download-demo-sampler");

    // The REST side needs no session of its own; this one shares the ServiceClient's connection.
    const rest = service.createRestClient();
    console.log(`\nyour checkpoints, newest first (at most ${listLimit} shown):`);
    let total = 0;
    // `for await` fetches page after page as the loop needs them.
    for await (const checkpoint of rest.listUserCheckpoints()) {
      total++;
      if (total > listLimit) continue;
      const ours = checkpoint.tinkerPath === state.path || checkpoint.tinkerPath === sampler.path;
      const size = checkpoint.sizeBytes === undefined ? "" : `${checkpoint.sizeBytes} bytes`;
      console.log(
        `  ${ours ? "*" : " "} ${checkpoint.checkpointType.padEnd(8)} ${checkpoint.tinkerPath}  ${size}`,
      );
    }
    console.log(`  (${total} in all; * = saved by this run)`);

    // The sampler checkpoint is the one to export: a PEFT adapter (config + weights). A training
    // checkpoint downloads the same way. `force` replaces the previous run's download.
    let lastShown = -1;
    const result = await rest.downloadCheckpoint(sampler.path, outDir, {
      force: true,
      onProgress: ({ receivedBytes, totalBytes }: DownloadProgress) => {
        // On stderr: how many progress calls there are depends on how the bytes arrive.
        const percent = totalBytes ? Math.floor((100 * receivedBytes) / totalBytes) : -1;
        if (percent !== lastShown) {
          lastShown = percent;
          const of = totalBytes === undefined ? "" : ` of ${totalBytes} (${percent}%)`;
          process.stderr.write(`downloading: ${receivedBytes} bytes${of}\n`);
        }
      },
    });
    console.log(`\ndownloaded sampler_weights/download-demo-sampler into ${result.dir}`);
    for (const file of [...result.files].sort()) {
      console.log(`  ${file.padEnd(28)} ${statSync(join(result.dir, file)).size} bytes`);
    }

    const config = JSON.parse(readFileSync(join(result.dir, "adapter_config.json"), "utf8")) as Record<
      string,
      unknown
    >;
    console.log(
      `\nadapter_config.json: peft_type ${config.peft_type}, r ${config.r}, lora_alpha ${config.lora_alpha}, ` +
        `base model ${config.base_model_name_or_path}`,
    );

    const { tensors, metadata } = readSafetensorsHeader(join(result.dir, "adapter_model.safetensors"));
    const names = Object.keys(tensors).sort();
    console.log(`\nadapter_model.safetensors: ${names.length} tensors`);
    for (const name of names) {
      const t = tensors[name];
      console.log(`  ${name}  ${t?.dtype} [${t?.shape.join(", ")}]`);
    }
    if (Object.keys(metadata).length > 0) {
      console.log(`metadata: ${Object.keys(metadata).sort().join(", ")}`);
    }
    console.log(`time: ${((performance.now() - started) / 1000).toFixed(1)} s`);
  } finally {
    await close();
  }
}

await main();
