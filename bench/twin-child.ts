// One twin measured in its own process (bench/twins.ts forks it, with --expose-gc), so its RSS is
// that twin's alone: the model layer is called directly, no HTTP. Prints one JSON line.
import { createModel, type Datum, findModelSpec, prepareModel } from "tinker-local";

export interface TwinChildResult {
  name: string;
  vocabSize: number;
  rssBaseMiB: number;
  rssModelMiB: number;
  rssTrainedMiB: number;
  maxRssMiB: number;
  createMs: number;
  forwardBackwardMs: number;
  optimStepMs: number;
  sampleMs: number;
  saveWeightsMs: number;
  checkpointBytes: number;
}

const name = process.argv[2] as string;
const T = Number(process.argv[3] ?? 64);
const STEPS = 3;
const MiB = 1024 * 1024;
const gc = (globalThis as { gc?: () => void }).gc;
const rss = () => {
  gc?.();
  gc?.();
  return process.memoryUsage().rss / MiB;
};
// CPU milliseconds, not wall time: on a shared machine waiting for a core is not the model's cost.
const time = (fn: () => void) => {
  const start = process.cpuUsage();
  fn();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

await prepareModel(name);
const spec = findModelSpec(name);
const rssBase = rss();
let model = createModel("tinker-local/tiny", { rank: 1 });
const createMs = time(() => {
  model = createModel(name, { rank: 8, seed: 1 });
});
const rssModel = rss();
// A seeded walk over the vocabulary: ids from every part of the table.
const tokens = Array.from({ length: T + 1 }, (_, i) => (i * 7919 + 13) % spec.vocabSize);
const data: Datum[] = [
  { tokens: tokens.slice(0, -1), lossFnInputs: { target_tokens: { dtype: "int64", data: tokens.slice(1) } } },
];
const fb: number[] = [];
const opt: number[] = [];
for (let s = 0; s < STEPS; s++) {
  fb.push(time(() => model.forwardBackward(data, "cross_entropy")));
  opt.push(time(() => model.optimStep({ learning_rate: 1e-3 })));
}
const sampleMs = time(() => model.sample(tokens.slice(0, 16), { max_tokens: 16, seed: 1, top_p: 0.9 }, 1));
let bytes = 0;
const saveWeightsMs = time(() => {
  bytes = model.saveWeights().length;
});
const result: TwinChildResult = {
  name,
  vocabSize: spec.vocabSize,
  rssBaseMiB: rssBase,
  rssModelMiB: rssModel,
  rssTrainedMiB: rss(),
  maxRssMiB: process.resourceUsage().maxRSS / 1024,
  createMs,
  forwardBackwardMs: median(fb),
  optimStepMs: median(opt),
  sampleMs,
  saveWeightsMs,
  checkpointBytes: bytes,
};
process.stdout.write(`${JSON.stringify(result)}\n`);
