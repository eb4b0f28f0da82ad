// seq_id ordering over real HTTP (contract 5.4, decision 6): out-of-order arrivals are held until
// the gap fills, a repeated seq_id answers the original request and is applied once, and a gap
// that never fills fails the held requests after the configured timeout.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type LocalServer, startServer } from "tinker-local";
import { createSession, errorDetail, post } from "./helpers/server-http.js";
import {
  ceDatum,
  createModel,
  decodeOutput,
  forwardBackward,
  optimStep,
  PROTOBUF,
  poll,
  postForwardBackward,
  resultOf,
  submit,
  TEXT,
} from "./helpers/training-http.js";

const GAP_TIMEOUT_MS = 300;

async function submitFb(server: LocalServer, modelId: string, seqId: number): Promise<string> {
  const submitted = await postForwardBackward(server.url, modelId, seqId, [ceDatum(TEXT)]);
  assert.equal(submitted.status, 200, submitted.text);
  return (submitted.json as { request_id: string }).request_id;
}

const optimBody = (modelId: string, seqId: number) => ({
  adam_params: { learning_rate: 0.01 },
  model_id: modelId,
  seq_id: seqId,
  type: "optim_step",
});

describe("seq_id ordering", () => {
  let server: LocalServer;
  let sessionId: string;
  let modelSeq = 0;
  const newModel = () => createModel(server.url, sessionId, modelSeq++);

  before(async () => {
    server = await startServer({ longPollHoldMs: 1000, seqGapTimeoutMs: GAP_TIMEOUT_MS });
    sessionId = await createSession(server.url);
  });
  after(() => server.close());

  test("arrivals 3, 2, 1 are held and then applied as 1, 2, 3", async () => {
    const outOfOrder = await newModel();
    const third = await submitFb(server, outOfOrder, 3);
    const second = await submit(server.url, "/api/v1/optim_step", optimBody(outOfOrder, 2));
    await server.models.idle();
    assert.deepEqual(server.models.heldSeqIds(outOfOrder), [2, 3]);
    assert.deepEqual(server.models.appliedSeqIds(outOfOrder), []);
    const first = await submitFb(server, outOfOrder, 1);
    const results = [
      decodeOutput(await poll(server.url, first, { accept: PROTOBUF })),
      await resultOf(server.url, second),
      decodeOutput(await poll(server.url, third, { accept: PROTOBUF })),
    ];
    assert.deepEqual(server.models.appliedSeqIds(outOfOrder), [1, 2, 3]);
    assert.deepEqual(server.models.heldSeqIds(outOfOrder), []);

    // The same three requests in order give the same results: seq 3 ran after the optimizer step.
    const inOrder = await newModel();
    const expected = [
      await forwardBackward(server.url, inOrder, 1, [ceDatum(TEXT)]),
      await optimStep(server.url, inOrder, 2),
      await forwardBackward(server.url, inOrder, 3, [ceDatum(TEXT)]),
    ];
    assert.deepEqual(results, expected);
    assert.notDeepEqual(results[2], results[0]);
  });

  test("a repeated seq_id answers the original request id and is applied once", async () => {
    const other = [ceDatum("hello world, hello")];
    const twice = await newModel();
    const first = await submitFb(server, twice, 1);
    const repeat = await submitFb(server, twice, 1);
    assert.equal(repeat, first);
    await poll(server.url, first, { accept: PROTOBUF });
    const repeatAfterRun = await submitFb(server, twice, 1);
    assert.equal(repeatAfterRun, first);
    await forwardBackward(server.url, twice, 2, other);
    await optimStep(server.url, twice, 3);
    assert.deepEqual(server.models.appliedSeqIds(twice), [1, 2, 3]);

    // Gradients of seq 1 were accumulated once: the weights equal those of a model that got it
    // once. (Adam hides a uniformly scaled gradient, hence the second, different datum.)
    const once = await newModel();
    await forwardBackward(server.url, once, 1, [ceDatum(TEXT)]);
    await forwardBackward(server.url, once, 2, other);
    await optimStep(server.url, once, 3);
    const doubled = await newModel();
    await forwardBackward(server.url, doubled, 1, [ceDatum(TEXT)]);
    await forwardBackward(server.url, doubled, 2, [ceDatum(TEXT)]);
    await forwardBackward(server.url, doubled, 3, other);
    await optimStep(server.url, doubled, 4);
    const probe = [ceDatum("the mat sat")];
    const twiceOut = await forwardBackward(server.url, twice, 4, probe, { forwardOnly: true });
    assert.deepEqual(twiceOut, await forwardBackward(server.url, once, 4, probe, { forwardOnly: true }));
    // ...and the comparison can tell: applying seq 1 twice gives other weights.
    assert.notDeepEqual(
      twiceOut,
      await forwardBackward(server.url, doubled, 5, probe, { forwardOnly: true }),
    );
  });

  test("a repeated seq_id that is still held answers the same request id", async () => {
    const modelId = await newModel();
    const held = await submit(server.url, "/api/v1/optim_step", optimBody(modelId, 2));
    assert.equal(await submit(server.url, "/api/v1/optim_step", optimBody(modelId, 2)), held);
    await submitFb(server, modelId, 1);
    await resultOf(server.url, held);
    assert.deepEqual(server.models.appliedSeqIds(modelId), [1, 2]);
  });

  test("a seq_id reused by a different kind of request, or too far ahead, is 400", async () => {
    const modelId = await newModel();
    await submitFb(server, modelId, 1);
    const clash = await post(server.url, "/api/v1/optim_step", optimBody(modelId, 1));
    assert.equal(clash.status, 400);
    assert.match(errorDetail(clash), /already used by a forward_backward request/);
    const far = await post(server.url, "/api/v1/optim_step", optimBody(modelId, 1_000_000));
    assert.equal(far.status, 400);
    assert.match(errorDetail(far), /too far ahead/);
    const negative = await post(server.url, "/api/v1/optim_step", optimBody(modelId, -1));
    assert.equal(negative.status, 400);
  });

  test("a gap that never fills fails the held requests; a late arrival still runs", async () => {
    const modelId = await newModel();
    const second = await submitFb(server, modelId, 2);
    const third = await submit(server.url, "/api/v1/optim_step", optimBody(modelId, 3));
    for (const requestId of [second, third]) {
      const result = await poll(server.url, requestId, { accept: PROTOBUF });
      const body = result.json as { error: string; category: string };
      assert.equal(body.category, "user");
      assert.match(body.error, /seq_id 1 never arrived/);
    }
    assert.deepEqual(server.models.heldSeqIds(modelId), []);
    // The abandoned seq ids stay taken: a repeat answers the failed request.
    assert.equal(await submitFb(server, modelId, 2), second);
    const first = await submitFb(server, modelId, 1);
    await poll(server.url, first, { accept: PROTOBUF });
    const fourth = await submitFb(server, modelId, 4);
    await poll(server.url, fourth, { accept: PROTOBUF });
    assert.deepEqual(server.models.appliedSeqIds(modelId), [1, 4]);
  });

  test("unloading a model fails the requests still waiting for a gap", async () => {
    const modelId = await newModel();
    const held = await submitFb(server, modelId, 2);
    await submit(server.url, "/api/v1/unload_model", { model_id: modelId, type: "unload_model" });
    const result = await poll(server.url, held, { accept: PROTOBUF });
    assert.match((result.json as { error: string }).error, /unloaded/);
  });
});
