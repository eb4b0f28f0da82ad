// Defects found by reading tinker-local as an attacker would (issue 8, item 5), each proven over
// real HTTP: a checkpoint is addressed only by its exact name, names that need percent-encoding are
// refused at save time (and by the SDK before sending), and internal errors never carry server paths.
import assert from "node:assert/strict";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type LocalServer, startServer } from "tinker-local";
import { CHECKPOINT_NAME_CHARACTERS, ServiceClient, ValidationError } from "tinker-ts";
import { call, createSession, DEFAULT_KEY, errorDetail, get, post } from "./helpers/server-http.js";
import { createModel, poll, saveWeights, submit } from "./helpers/training-http.js";

describe("checkpoint names and internal errors", () => {
  let server: LocalServer;
  let modelId: string;
  let seq = 1;

  before(async () => {
    server = await startServer({ port: 0 });
    const sessionId = await createSession(server.url);
    modelId = await createModel(server.url, sessionId, 0);
  });
  after(() => server.close());

  const names = async () => {
    const listed = await get(server.url, `/api/v1/training_runs/${modelId}/checkpoints`);
    return (listed.json as { checkpoints: { checkpoint_id: string }[] }).checkpoints.map(
      (c) => c.checkpoint_id,
    );
  };

  test("a %xx-encoded name in the URL is not decoded into another checkpoint's name", async () => {
    await saveWeights(server.url, modelId, seq++, "ab");
    // `a%62` decodes to `ab`; it must address the (absent) checkpoint named "a%62", not "ab".
    const deleted = await call(
      server.url,
      "DELETE",
      `/api/v1/training_runs/${modelId}/checkpoints/weights/a%62`,
      {
        key: DEFAULT_KEY,
      },
    );
    assert.equal(deleted.status, 404, deleted.text);
    assert.ok((await names()).includes("weights/ab"), "ab is still there");
    const exact = await call(
      server.url,
      "DELETE",
      `/api/v1/training_runs/${modelId}/checkpoints/weights/ab`,
      {
        key: DEFAULT_KEY,
      },
    );
    assert.equal(exact.status, 200, exact.text);
    assert.equal((await names()).includes("weights/ab"), false);
  });

  for (const [label, name] of [
    ["a space", "a b"],
    ["'%'", "100%"],
    ["'?'", "why?"],
    ["'#'", "no#1"],
    ["'\\'", "back\\slash"],
  ] as const) {
    test(`a save named with ${label} is refused with a 400 that lists the allowed characters`, async () => {
      const answer = await post(server.url, "/api/v1/save_weights", {
        model_id: modelId,
        path: name,
        seq_id: seq,
        overwrite: false,
        type: "save_weights",
      });
      // Refused at submit: a 400 before any future exists, so the seq id stays free.
      assert.equal(answer.status, 400, answer.text);
      const detail = errorDetail(answer);
      assert.ok(detail.includes(label), detail);
      assert.ok(detail.includes(CHECKPOINT_NAME_CHARACTERS), detail);
      assert.equal((await names()).includes(`weights/${name}`), false);
    });
  }

  test("the SDK refuses the same names before sending anything", async () => {
    const service = new ServiceClient({ apiKey: DEFAULT_KEY, baseUrl: server.url, logLevel: "off" });
    try {
      const training = await service.createLoraTrainingClient("tinker-local/tiny", { rank: 4, seed: 1 });
      server.clearRequests();
      for (const name of ["a b", "100%", "why?", "no#1", "back\\slash", ""]) {
        assert.throws(() => training.saveState(name), ValidationError, name);
        assert.throws(() => training.saveWeightsForSampler(name), ValidationError, name);
      }
      assert.deepEqual(
        server.requests().filter((r) => r.path.startsWith("/api/v1/save_weights")),
        [],
        "nothing was sent",
      );
      // Names within the rule pass on both sides.
      const { path } = await training.saveState("ok.name_1-(v2)+x=y,z@w:~");
      assert.match(path, /weights\/ok\.name_1-\(v2\)\+x=y,z@w:~$/);
    } finally {
      await service.close();
    }
  });

  test("an internal error does not send server file paths to the client", async () => {
    // Make the checkpoint store unwritable: its root becomes a plain file, so a save fails inside
    // the server with an error whose message names paths under the data dir.
    const root = join(server.dataDir, "checkpoints");
    rmSync(root, { recursive: true, force: true });
    writeFileSync(root, "not a directory");
    try {
      const requestId = await submit(server.url, "/api/v1/save_weights", {
        model_id: modelId,
        path: "doomed",
        seq_id: seq++,
        overwrite: false,
        type: "save_weights",
      });
      const result = await poll(server.url, requestId);
      const body = JSON.stringify(result.json);
      assert.match(body, /"category":"server"/, body);
      assert.match(body, /server log/, body);
      assert.equal(body.includes(server.dataDir), false, `the answer names a server path: ${body}`);
      assert.equal(body.includes("checkpoints"), false, body);
    } finally {
      rmSync(root, { force: true });
    }
  });
});
