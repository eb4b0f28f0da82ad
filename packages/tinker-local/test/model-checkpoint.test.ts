// Safetensors in PEFT layout, adapter_config.json, and exact save/load/resume.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  createModel,
  createModelFromCheckpoint,
  LORA_ALPHA,
  type LoraModel,
  ModelInputError,
  readCheckpointInfo,
  readSafetensors,
  writeSafetensors,
} from "tinker-local";
import { ceDatum, logprobsOf, TINY } from "./model-helpers.js";

const DATA = [ceDatum("save me, load me, train me again"), ceDatum("0123456789")];

function step(model: LoraModel, n: number): void {
  for (let i = 0; i < n; i++) {
    model.forwardBackward(DATA, "cross_entropy");
    model.optimStep({ learning_rate: 3e-3, weight_decay: 0.01, grad_clip_norm: 5 });
  }
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.from(a).equals(Buffer.from(b));
}

test("the safetensors layout: u64 LE header length, JSON header, 8-byte aligned data", () => {
  const bytes = writeSafetensors(
    [
      { name: "a", dtype: "F32", shape: [2, 3], data: [1, 2, 3, 4, 5, 6.5] },
      { name: "b", dtype: "F64", shape: [1], data: [Math.PI] },
    ],
    { note: "x" },
  );
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(view.getBigUint64(0, true));
  assert.equal(n % 8, 0);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  assert.deepEqual(header.__metadata__, { note: "x" });
  assert.deepEqual(header.a, { dtype: "F32", shape: [2, 3], data_offsets: [0, 24] });
  assert.deepEqual(header.b, { dtype: "F64", shape: [1], data_offsets: [24, 32] });
  assert.equal(bytes.length, 8 + n + 32);
  assert.equal(view.getFloat32(8 + n + 20, true), 6.5);
  assert.equal(view.getFloat64(8 + n + 24, true), Math.PI);
  const back = readSafetensors(bytes);
  assert.deepEqual(Array.from(back.tensors.get("a")?.data ?? []), [1, 2, 3, 4, 5, 6.5]);
  assert.equal(back.tensors.get("b")?.data[0], Math.PI);
});

test("the reader widens BF16 and F16 and rejects malformed files with ModelInputError", () => {
  const enc = new TextEncoder();
  const make = (header: object, data: number[]) => {
    const h = enc.encode(JSON.stringify(header));
    const out = new Uint8Array(8 + h.length + data.length);
    new DataView(out.buffer).setBigUint64(0, BigInt(h.length), true);
    out.set(h, 8);
    out.set(data, 8 + h.length);
    return out;
  };
  // 1.5 in bf16 is 0x3fc0; -2 in f16 is 0xc000 (little-endian bytes).
  const ok = make(
    {
      x: { dtype: "BF16", shape: [1], data_offsets: [0, 2] },
      y: { dtype: "F16", shape: [1], data_offsets: [2, 4] },
    },
    [0xc0, 0x3f, 0x00, 0xc0],
  );
  const t = readSafetensors(ok).tensors;
  assert.equal(t.get("x")?.data[0], 1.5);
  assert.equal(t.get("y")?.data[0], -2);
  for (const badFile of [
    new Uint8Array(3),
    make({ x: { dtype: "F32", shape: [2], data_offsets: [0, 4] } }, [0, 0, 0, 0]),
    make({ x: { dtype: "Q4", shape: [1], data_offsets: [0, 1] } }, [0]),
    make({ x: { dtype: "F32", shape: [1], data_offsets: [0, 8] } }, [0, 0, 0, 0]),
    new Uint8Array([255, 255, 0, 0, 0, 0, 0, 0, 1]),
  ]) {
    assert.throws(() => readSafetensors(badFile), ModelInputError);
  }
});

test("weights use PEFT names and shapes; adapter_config matches", () => {
  const model = createModel(TINY, { rank: 4, train_attn: true, train_mlp: true, train_unembed: true });
  const { tensors, metadata } = readSafetensors(model.saveWeights());
  const d = model.info().arch.dModel;
  const mlp = model.info().arch.dMlp;
  const vocab = model.info().arch.vocabSize;
  assert.deepEqual(tensors.get("base_model.model.layers.0.self_attn.q_proj.lora_A.weight")?.shape, [4, d]);
  assert.deepEqual(tensors.get("base_model.model.layers.0.self_attn.q_proj.lora_B.weight")?.shape, [d, 4]);
  assert.deepEqual(tensors.get("base_model.model.layers.1.mlp.up_proj.lora_A.weight")?.shape, [4, d]);
  assert.deepEqual(tensors.get("base_model.model.layers.1.mlp.down_proj.lora_A.weight")?.shape, [4, mlp]);
  assert.deepEqual(tensors.get("base_model.model.lm_head.lora_B.weight")?.shape, [vocab, 4]);
  assert.equal(tensors.size, 2 * (2 * 6 + 1));
  for (const t of tensors.values()) assert.equal(t.dtype, "F32");
  assert.equal(metadata.format, "pt");
  assert.deepEqual(model.adapterConfig(), {
    peft_type: "LORA",
    task_type: "CAUSAL_LM",
    base_model_name_or_path: TINY,
    r: 4,
    lora_alpha: LORA_ALPHA,
    lora_dropout: 0,
    bias: "none",
    fan_in_fan_out: false,
    target_modules: ["q_proj", "k_proj", "v_proj", "o_proj", "up_proj", "down_proj", "lm_head"],
    inference_mode: true,
    use_rslora: false,
  });
  const mlpOnly = createModel(TINY, { rank: 2, train_attn: false, train_unembed: false });
  assert.deepEqual(mlpOnly.adapterConfig().target_modules, ["up_proj", "down_proj"]);
  assert.deepEqual(readCheckpointInfo(mlpOnly.saveWeights()), {
    kind: "weights",
    baseModel: TINY,
    lora: { rank: 2, seed: 0, train_attn: false, train_mlp: true, train_unembed: false },
  });
});

test("save then load restores weights exactly, with or without optimizer state", () => {
  const a = createModel(TINY, { rank: 4, seed: 2 });
  step(a, 3);
  const weights = a.saveWeights();
  const b = createModel(TINY, { rank: 4, seed: 99 }); // another seed: loading must overwrite A too
  b.loadWeights(weights);
  // The tensors must be identical (the header's seed is the checkpoint's: see the next test).
  assert.deepEqual(readSafetensors(b.saveWeights()).tensors, readSafetensors(weights).tensors);
  assert.deepEqual(logprobsOf(b, DATA[0]!), logprobsOf(a, DATA[0]!));
  assert.equal(b.info().optimizerStep, 0);
  const c = createModelFromCheckpoint(weights, a.saveOptimizer());
  assert.ok(same(c.saveWeights(), weights));
  assert.ok(same(c.saveOptimizer(), a.saveOptimizer()));
  assert.equal(c.info().optimizerStep, 3);
});

test("a model restored from a checkpoint keeps the original run's LoRA seed in what it saves", () => {
  const original = createModel(TINY, { rank: 4, seed: 1234 });
  step(original, 1);
  // Restoring as the SDK does: a model created without a seed (so the default, 0), then loaded.
  const restored = createModel(TINY, { rank: 4 });
  assert.equal(readCheckpointInfo(restored.saveWeights()).lora.seed, 0);
  restored.loadWeights(original.saveWeights());
  restored.loadOptimizer(original.saveOptimizer());
  for (const saved of [restored.saveWeights(), restored.saveOptimizer()]) {
    assert.equal(readCheckpointInfo(saved).lora.seed, 1234);
  }
  assert.equal(createModelFromCheckpoint(restored.saveWeights()).lora?.seed, 1234);
});

test("resuming from a checkpoint continues bit-identically to never having saved", () => {
  const straight = createModel(TINY, { rank: 4, seed: 5 });
  step(straight, 4);
  const first = createModel(TINY, { rank: 4, seed: 5 });
  step(first, 2);
  const resumed = createModelFromCheckpoint(first.saveWeights(), first.saveOptimizer());
  first.dispose();
  step(resumed, 2);
  assert.ok(same(resumed.saveWeights(), straight.saveWeights()));
  assert.ok(same(resumed.saveOptimizer(), straight.saveOptimizer()));
  // Without the optimizer state the run diverges: the moments matter.
  const weightsOnly = createModel(TINY, { rank: 4, seed: 5 });
  step(weightsOnly, 2);
  const fresh = createModel(TINY, { rank: 4, seed: 5 });
  fresh.loadWeights(weightsOnly.saveWeights());
  step(fresh, 2);
  assert.ok(!same(fresh.saveWeights(), straight.saveWeights()));
});

test("loading a checkpoint that does not fit fails clearly and changes nothing", () => {
  const model = createModel(TINY, { rank: 4 });
  step(model, 1);
  const before = model.saveWeights();
  const otherRank = createModel(TINY, { rank: 2 }).saveWeights();
  assert.throws(
    () => model.loadWeights(otherRank),
    (e: Error) => e instanceof ModelInputError && /rank/.test(e.message),
  );
  const otherFlags = createModel(TINY, { rank: 4, train_unembed: false }).saveWeights();
  assert.throws(() => model.loadWeights(otherFlags), ModelInputError);
  const otherBase = createModel("tinker-local/small", { rank: 4 }).saveWeights();
  assert.throws(() => model.loadWeights(otherBase), /base model tinker-local\/small/);
  assert.throws(() => model.loadOptimizer(model.saveWeights()), /not optimizer state/);
  assert.throws(() => model.loadWeights(new Uint8Array([1, 2, 3])), ModelInputError);
  assert.ok(same(model.saveWeights(), before));
  assert.throws(() => createModel(TINY).saveWeights(), ModelInputError);
});
