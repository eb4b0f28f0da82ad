// The README's quick start, runnable: against TINKER_BASE_URL / TINKER_API_KEY when they are set,
// else against a tinker-local started in this process.
//
//   node --conditions=tinker-source --import tsx examples/quickstart.ts

import { Datum, getTokenizer, ModelInput, ServiceClient } from "tinker-ts";
import { type ExampleCli, exampleCli } from "./lib/args.js";
import { isTinkerLocal } from "./lib/backend.js";

// --help and unknown flags are handled like in every example (it takes only the common flags).
const cli: ExampleCli = exampleCli(
  "quickstart",
  "The README's quick start: one training step, one sample, one save.",
);
cli.parse({});

let stopServer = async () => {};
if (process.env.TINKER_BASE_URL && !process.env.TINKER_API_KEY) {
  // A tinker-local at TINKER_BASE_URL takes its default key; ask the server what it is.
  const { DEFAULT_LOCAL_API_KEY } = await import("tinker-local");
  const probe = new ServiceClient({ apiKey: DEFAULT_LOCAL_API_KEY });
  const local = await isTinkerLocal(probe);
  await probe.close();
  if (!local) cli.usage(`${process.env.TINKER_BASE_URL} is not a tinker-local: set TINKER_API_KEY`);
  process.env.TINKER_API_KEY = DEFAULT_LOCAL_API_KEY;
}
if (!process.env.TINKER_BASE_URL) {
  const { startServer, DEFAULT_LOCAL_API_KEY } = await import("tinker-local");
  const server = await startServer({ port: 0 });
  process.env.TINKER_BASE_URL = server.url;
  process.env.TINKER_API_KEY = DEFAULT_LOCAL_API_KEY;
  stopServer = () => server.close();
}
const baseModel = process.env.TINKER_BASE_MODEL ?? "tinker-local/small";

// --- as in the README ---
const service = new ServiceClient(); // TINKER_API_KEY / TINKER_BASE_URL; no network call yet
// The tokenizer first: a missing one must fail before a (billed) training run exists.
const tokenizer = await getTokenizer(baseModel);
const training = await service.createLoraTrainingClient(baseModel, { rank: 32 });

const tokens = tokenizer.encode("maple=MAPLE\n");
const datum = Datum.forNextTokenPrediction(tokens); // target_tokens = tokens shifted by one
// Submitted back to back; the SDK keeps them in order (seq_id + turn gate) and polls both futures.
const fb = training.forwardBackward([datum], "cross_entropy");
const opt = training.optimStep({ learningRate: 3e-3 });
const [result] = await Promise.all([fb, opt]);
console.log("loss:sum", result.metrics["loss:sum"]);

const sampler = await training.saveWeightsAndGetSamplingClient();
const out = await sampler.sample(ModelInput.fromInts(tokenizer.encode("maple=")), {
  samplingParams: { maxTokens: 8, temperature: 0, stop: ["\n"] },
});
console.log("sample", JSON.stringify(tokenizer.decode(out.sequences[0]?.tokens ?? [])));

const { path } = await training.saveState("step-1"); // tinker://<run>/weights/step-1
console.log("saved", path);
await service.close(); // stops the heartbeat
// --- end ---

await stopServer();
