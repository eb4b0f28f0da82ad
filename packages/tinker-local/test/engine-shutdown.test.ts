// The engine in a separate process: SIGTERM while saves are in flight stops the server cleanly
// (exit 0) and leaves every checkpoint whole or absent, never half-written; and the built server
// (dist/, no tsx) runs model work in its workers too.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { startServer } from "tinker-local";
import { createModelFromCheckpoint } from "../src/model/lora-model.js";
import { checkpointFiles } from "../src/store/checkpoint-files.js";
import { createSession } from "./helpers/server-http.js";
import { spawnTinkerLocal } from "./helpers/spawn-local.js";
import {
  ceDatum,
  createModel,
  decodeOutput,
  poll,
  postForwardBackward,
  submit,
  TEXT,
} from "./helpers/training-http.js";

const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));

test("SIGTERM with saves in flight: exit 0, and every checkpoint on disk is whole and listed", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "tinker-local-sigterm-"));
  try {
    const local = await spawnTinkerLocal(["--workers", "1", "--data-dir", dataDir]);
    const sessionId = await createSession(local.url);
    const modelId = await createModel(local.url, sessionId, 0);
    const fb = await postForwardBackward(local.url, modelId, 1, [ceDatum(TEXT)]);
    const fbId = (fb.json as { request_id: string }).request_id;
    decodeOutput(await poll(local.url, fbId, { accept: "application/x-protobuf" }));
    // Five saves queued back to back; the signal arrives while they are queued or running.
    for (let i = 0; i < 5; i++) {
      await submit(local.url, "/api/v1/save_weights", {
        model_id: modelId,
        seq_id: 2 + i,
        path: `s${i}`,
        type: "save_weights",
      });
    }
    const code = await local.stop(30_000);
    assert.equal(code, 0, `exit code; stderr:\n${local.errorLines.join("\n")}`);

    // Nothing left half-written in the staging area.
    const staging = join(dataDir, "checkpoints", ".staging");
    assert.deepEqual(existsSync(staging) ? readdirSync(staging) : [], []);

    // Every listed checkpoint's files are complete (they load), and every checkpoint directory on
    // disk is a listed checkpoint.
    const server = await startServer({ port: 0, dataDir });
    try {
      const listed = server.store.checkpoints.listByRun(modelId);
      for (const checkpoint of listed) {
        const weights = checkpointFiles.read(
          dataDir,
          modelId,
          checkpoint.checkpointId,
          "adapter_model.safetensors",
        );
        const optimizer = checkpointFiles.read(
          dataDir,
          modelId,
          checkpoint.checkpointId,
          "optimizer.safetensors",
        );
        const model = createModelFromCheckpoint(weights, optimizer);
        assert.equal(model.baseModel, "tinker-local/tiny");
        model.dispose();
      }
      const weightsDir = join(dataDir, "checkpoints", encodeURIComponent(modelId), "weights");
      const onDisk = existsSync(weightsDir) ? readdirSync(weightsDir).sort() : [];
      assert.deepEqual(
        onDisk,
        listed.map((c) => c.checkpointId.replace(/^weights\//, "")).sort(),
        "a directory on disk that is not a listed checkpoint would be a half-finished save",
      );
    } finally {
      await server.close();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test("the built server (dist/, no tsx) runs model work in its worker threads", async () => {
  const cli = join(REPO_ROOT, "packages/tinker-local/dist/cli.js");
  if (!existsSync(cli) || !existsSync(join(REPO_ROOT, "packages/tinker-local/dist/engine/model-worker.js"))) {
    const build = spawnSync("npm", ["run", "build"], { cwd: REPO_ROOT, encoding: "utf8" });
    assert.equal(build.status, 0, `npm run build failed:\n${build.stdout}${build.stderr}`);
  }
  const dataDir = mkdtempSync(join(tmpdir(), "tinker-local-dist-"));
  const proc = spawn(process.execPath, [cli, "--port", "0", "--workers", "2", "--data-dir", dataDir], {
    cwd: REPO_ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<number>((resolve) => proc.once("exit", (code) => resolve(code ?? -1)));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      createInterface({ input: proc.stdout }).on("line", (line) => {
        const match = /^listening on (http:\/\/\S+)$/.exec(line);
        if (match?.[1] !== undefined) resolve(match[1]);
      });
      void exited.then((code) => reject(new Error(`dist server exited with ${code}`)));
    });
    const sessionId = await createSession(url);
    const models = await Promise.all([createModel(url, sessionId, 0), createModel(url, sessionId, 1)]);
    const outputs = await Promise.all(
      models.map(async (modelId) => {
        const answer = await postForwardBackward(url, modelId, 1, [ceDatum(TEXT)]);
        const requestId = (answer.json as { request_id: string }).request_id;
        return decodeOutput(await poll(url, requestId, { accept: "application/x-protobuf" }));
      }),
    );
    for (const output of outputs) assert.ok((output.metrics["loss:sum"] as number) > 0);
    proc.kill("SIGTERM");
    assert.equal(await exited, 0);
  } finally {
    if (proc.exitCode === null) proc.kill("SIGKILL");
    rmSync(dataDir, { recursive: true, force: true });
  }
});
