// weights_access_token (contract 2.8) against a real tinker-local with two users. User A saves a
// private checkpoint; user B cannot restore it without a token (404 from weights_info / load_weights)
// and can with A's key as `weightsAccessToken`, on both restore paths (weights_info → create_model →
// load_weights, and create-via-load). The restored weights are A's (same forward logprobs), and the
// token never reaches B's log lines or error messages.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type LocalServer, startServer } from "tinker-local";
import {
  Datum,
  type Logger,
  NotFoundError,
  ServiceClient,
  type TrainingClient,
  ValidationError,
} from "tinker-ts";

const KEY_A = "tml-owner-a-7f3c9e21d4";
const KEY_B = "tml-reader-b-5d8a1b60c2";
const MODEL = "tinker-local/tiny";
const PROBE = [Datum.forNextTokenPrediction([104, 101, 108, 108, 111, 33])];

function capturingLogger(lines: string[]): Logger {
  const push = (level: string) => (message: string, fields?: Record<string, unknown>) =>
    lines.push(`${level} ${message}${fields ? ` ${JSON.stringify(fields)}` : ""}`);
  return { debug: push("debug"), info: push("info"), warn: push("warn"), error: push("error") };
}

async function logprobs(training: TrainingClient): Promise<number[]> {
  const out = await training.forward(PROBE, "cross_entropy");
  const lp = out.lossFnOutputs[0]?.logprobs;
  assert.ok(lp, "forward returns logprobs");
  return lp.toArray() as number[];
}

for (const viaLoad of [false, true]) {
  describe(`weightsAccessToken (create_model_via_load_weights: ${viaLoad})`, () => {
    let server: LocalServer;
    let owner: ServiceClient;
    let reader: ServiceClient;
    let path: string;
    let ownerLogprobs: number[];
    const lines: string[] = [];

    before(async () => {
      server = await startServer({
        port: 0,
        apiKeys: [KEY_A, KEY_B],
        clientConfig: { create_model_via_load_weights: viaLoad },
      });
      owner = new ServiceClient({ apiKey: KEY_A, baseUrl: server.url, logLevel: "off" });
      reader = new ServiceClient({
        apiKey: KEY_B,
        baseUrl: server.url,
        logLevel: "debug",
        logger: capturingLogger(lines),
      });
      const training = await owner.createLoraTrainingClient(MODEL, { rank: 4, seed: 3 });
      await training.forwardBackward(PROBE, "cross_entropy");
      await training.optimStep({ learningRate: 0.05 });
      ({ path } = await training.saveState("private"));
      ownerLogprobs = await logprobs(training);
    });
    after(async () => {
      await owner.close();
      await reader.close();
      await server.close();
    });

    it("without a token, another user's private checkpoint is not found", async () => {
      await assert.rejects(reader.createTrainingClientFromState(path), NotFoundError);
    });

    it("with the owner's key as weightsAccessToken, it restores the owner's weights", async () => {
      server.clearRequests();
      const restored = await reader.createTrainingClientFromState(path, {
        withOptimizer: true,
        weightsAccessToken: KEY_A,
      });
      assert.equal(restored.baseModel, MODEL);
      assert.deepEqual(await logprobs(restored), ownerLogprobs);
      const paths = server.requests().map((r) => `${r.path} ${r.status}`);
      if (viaLoad) {
        assert.ok(!paths.some((p) => p.startsWith("/api/v1/weights_info")), paths.join("\n"));
      } else {
        // The token's own session-less client: a second client/config, then weights_info as A.
        assert.ok(paths.includes("/api/v1/client/config 200"), paths.join("\n"));
        assert.ok(paths.includes("/api/v1/weights_info 200"), paths.join("\n"));
      }
      assert.ok(paths.includes("/api/v1/load_weights 200"), paths.join("\n"));
    });

    it("loadState takes the token too; without it the load is not found", async () => {
      const training = await reader.createLoraTrainingClient(MODEL, { rank: 4 });
      await assert.rejects(training.loadState(path), NotFoundError);
      await training.loadState(path, { weightsAccessToken: KEY_A });
      assert.deepEqual(await logprobs(training), ownerLogprobs);
    });

    it("a malformed token is a ValidationError before anything is sent, and is not shown", async () => {
      const bad = "not-a-key-9b2e7c1f";
      server.clearRequests();
      for (const attempt of [
        () => reader.createTrainingClientFromState(path, { weightsAccessToken: bad }),
        async () =>
          (await reader.createLoraTrainingClient(MODEL, { rank: 4 })).loadState(path, {
            weightsAccessToken: bad,
          }),
      ]) {
        await assert.rejects(attempt, (error: unknown) => {
          assert.ok(error instanceof ValidationError);
          assert.equal(error.field, "weightsAccessToken");
          assert.ok(!error.message.includes(bad));
          return true;
        });
      }
      const sent = server.requests().map((r) => r.path);
      assert.ok(
        !sent.includes("/api/v1/weights_info") && !sent.includes("/api/v1/load_weights"),
        sent.join(),
      );
    });

    it("the token never appears in the reader's log lines", () => {
      assert.ok(lines.length > 0, "debug logging produced lines");
      for (const line of lines) {
        assert.ok(!line.includes(KEY_A), `token leaked: ${line}`);
        assert.ok(!line.includes(KEY_B), `key leaked: ${line}`);
      }
    });
  });
}
