// Checkpoint files are recorded with their size and SHA-256 when saved, and checked before they are
// listed, loaded or downloaded (issue 8, item 5): a file damaged on disk is a server error (5xx,
// with a request id, naming no server path), never served as good. Over real HTTP.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type LocalServer, startServer } from "tinker-local";
import { call, createSession, DEFAULT_KEY, errorDetail, get, post } from "./helpers/server-http.js";
import { createModel, poll, saveWeights, submit } from "./helpers/training-http.js";

const WEIGHTS = "adapter_model.safetensors";

describe("checkpoint integrity", () => {
  let server: LocalServer;
  let sessionId: string;
  let modelId: string;
  let seq = 1;

  before(async () => {
    server = await startServer({ port: 0 });
    sessionId = await createSession(server.url);
    modelId = await createModel(server.url, sessionId, 0);
  });
  after(() => server.close());

  const fileOf = (checkpointId: string, fileName: string) => join(dirOf(checkpointId), fileName);
  const dirOf = (checkpointId: string) => {
    const [segment, name = ""] = checkpointId.split("/");
    return join(server.dataDir, "checkpoints", encodeURIComponent(modelId), segment ?? "", name);
  };
  const listRun = () => get(server.url, `/api/v1/training_runs/${modelId}/checkpoints`);
  const listMine = () => get(server.url, "/api/v1/checkpoints");

  /** A 5xx whose detail names the checkpoint and a request id, and no server path. */
  const assertServerError = (status: number, text: string, name: string) => {
    assert.ok(status >= 500 && status < 600, `${status} ${text}`);
    assert.match(text, /damaged/);
    assert.match(text, new RegExp(`weights/${name}`));
    assert.match(text, /request [\w-]+/);
    assert.equal(text.includes(server.dataDir), false, text);
    assert.equal(text.includes("/checkpoints/"), false, text);
  };

  test("a save records every file's size and SHA-256 in SQLite, matching what is on disk", async () => {
    await saveWeights(server.url, modelId, seq++, "recorded");
    const record = server.store.checkpoints.get(modelId, "weights/recorded");
    assert.ok(record?.files, "digests were recorded");
    const onDisk = readdirSync(dirOf("weights/recorded")).sort();
    assert.deepEqual(Object.keys(record.files).sort(), onDisk);
    let total = 0;
    for (const [fileName, digest] of Object.entries(record.files)) {
      const bytes = readFileSync(fileOf("weights/recorded", fileName));
      assert.equal(digest.size, bytes.length, fileName);
      assert.equal(digest.sha256, createHash("sha256").update(bytes).digest("hex"), fileName);
      total += bytes.length;
    }
    assert.equal(record.sizeBytes, total);
    const listed = await listRun();
    assert.equal(listed.status, 200, listed.text);
  });

  for (const [how, damage] of [
    [
      "a flipped byte",
      (path: string) => {
        const bytes = readFileSync(path);
        bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 0xff;
        writeFileSync(path, bytes);
      },
    ],
    ["truncation", (path: string) => truncateSync(path, 10)],
  ] as const) {
    test(`${how} in a checkpoint file: listing, loading and downloading it are server errors`, async () => {
      const name = how === "truncation" ? "truncated" : "flipped";
      await saveWeights(server.url, modelId, seq++, name);
      assert.equal((await listRun()).status, 200, "good before the damage");
      damage(fileOf(`weights/${name}`, WEIGHTS));

      for (const listing of [await listRun(), await listMine()]) {
        assertServerError(listing.status, errorDetail(listing), name);
      }
      // Loading it into the model: the future fails as the server's fault, not the user's.
      const loadId = await submit(server.url, "/api/v1/load_weights", {
        model_id: modelId,
        seq_id: seq++,
        path: `tinker://${modelId}/weights/${name}`,
        optimizer: true,
        type: "load_weights",
      });
      const loaded = await poll(server.url, loadId);
      const failure = loaded.json as { error?: string; category?: string };
      assert.equal(failure.category, "server", JSON.stringify(failure));
      assertServerError(500, failure.error ?? "", name);
      // Creating a model from it (create-via-load).
      const created = await post(server.url, "/api/v1/load_weights", {
        session_id: sessionId,
        model_seq_id: 100 + seq,
        path: `tinker://${modelId}/weights/${name}`,
        type: "load_weights",
      });
      assertServerError(created.status, errorDetail(created), name);
      // The archive download: the signed URL's answer is a 500, no tar.
      const redirect = await fetch(
        `${server.url}/api/v1/training_runs/${modelId}/checkpoints/weights/${name}/archive`,
        { headers: { "x-api-key": DEFAULT_KEY }, redirect: "manual" },
      );
      assert.equal(redirect.status, 302);
      const download = await fetch(redirect.headers.get("location") ?? "");
      const text = await download.text();
      assertServerError(download.status, text, name);
      assert.notEqual(download.headers.get("content-type"), "application/x-tar");

      // Deleting the damaged checkpoint works, and the listings are good again.
      const deleted = await call(
        server.url,
        "DELETE",
        `/api/v1/training_runs/${modelId}/checkpoints/weights/${name}`,
        { key: DEFAULT_KEY },
      );
      assert.equal(deleted.status, 200, deleted.text);
      assert.equal((await listRun()).status, 200);
      assert.equal((await listMine()).status, 200);
    });
  }
});
