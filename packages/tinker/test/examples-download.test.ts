// examples/download-checkpoint.ts as a child process: it lists the checkpoints it saved, downloads
// the sampler checkpoint and prints the PEFT tensor names found in adapter_model.safetensors.

import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { describeRun, runExample } from "./helpers/run-example.js";

const dataDir = mkdtempSync(join(tmpdir(), "tinker-examples-download-"));
after(() => rmSync(dataDir, { recursive: true, force: true }));

/** tinker-local/tiny: 2 layers, d_model 32, MLP 128, vocabulary 259 (docs/models.md). */
function expectedTensors(rank: number): string[] {
  const lines: string[] = [];
  for (let layer = 0; layer < 2; layer++) {
    const p = `base_model.model.layers.${layer}`;
    lines.push(`${p}.mlp.down_proj.lora_A.weight  F32 [${rank}, 128]`);
    lines.push(`${p}.mlp.down_proj.lora_B.weight  F32 [32, ${rank}]`);
    lines.push(`${p}.mlp.up_proj.lora_A.weight  F32 [${rank}, 32]`);
    lines.push(`${p}.mlp.up_proj.lora_B.weight  F32 [128, ${rank}]`);
    for (const proj of ["k", "o", "q", "v"]) {
      lines.push(`${p}.self_attn.${proj}_proj.lora_A.weight  F32 [${rank}, 32]`);
      lines.push(`${p}.self_attn.${proj}_proj.lora_B.weight  F32 [32, ${rank}]`);
    }
  }
  lines.push(`base_model.model.lm_head.lora_A.weight  F32 [${rank}, 32]`);
  lines.push(`base_model.model.lm_head.lora_B.weight  F32 [259, ${rank}]`);
  return lines;
}

test("download-checkpoint: lists, downloads and reads the adapter's tensor names", async () => {
  const out = join(dataDir, "adapter");
  const run = await runExample("download-checkpoint.ts", [
    ...["--model", "tinker-local/tiny", "--steps", "2", "--rank", "4"],
    ...["--data-dir", dataDir, "--out", out],
  ]);
  assert.equal(run.code, 0, describeRun(run));

  // Both checkpoints of this run are listed and marked.
  const listed = [...run.stdout.matchAll(/^ {2}\* (sampler|training) +(tinker:\/\/\S+) +(\d+) bytes$/gm)];
  assert.deepEqual(
    listed.map((m) => m[2]?.replace(/^tinker:\/\/[^/]+\//, "")).sort(),
    ["sampler_weights/download-demo-sampler", "weights/download-demo-state"],
    describeRun(run),
  );
  assert.match(run.stdout, /^ {2}\(2 in all; \* = saved by this run\)$/m);

  // The progress callback ran and saw the whole archive.
  assert.match(run.stderr, /^downloading: (\d+) bytes of \1 \(100%\)$/m, describeRun(run));

  assert.match(run.stdout, /^ {2}adapter_config\.json +\d+ bytes$/m);
  assert.match(run.stdout, /^ {2}adapter_model\.safetensors +\d+ bytes$/m);
  assert.ok(existsSync(join(out, "adapter_model.safetensors")));
  const config = JSON.parse(readFileSync(join(out, "adapter_config.json"), "utf8")) as { r: number };
  assert.equal(config.r, 4);
  assert.match(
    run.stdout,
    /^adapter_config\.json: peft_type LORA, r 4, lora_alpha 32, base model tinker-local\/tiny$/m,
  );

  const expected = expectedTensors(4);
  assert.match(run.stdout, new RegExp(`^adapter_model\\.safetensors: ${expected.length} tensors$`, "m"));
  const printed = run.stdout
    .split("\n")
    .filter((line) => line.startsWith("  base_model.model."))
    .map((line) => line.trim());
  assert.deepEqual(printed, expected);
});
