// retrieve_future over real HTTP: long-poll holds, try_again, 404/410, failures, and close().
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type LocalServer, startServer } from "tinker-local";
import { createSession, errorDetail, FakeClock, post } from "./helpers/server-http.js";
import {
  ceDatum,
  createModel,
  decodeOutput,
  PROTOBUF,
  poll,
  postForwardBackward,
  retrieve,
  submit,
  TEXT,
} from "./helpers/training-http.js";

const KEY = "tml-local-dev";
const OTHER_KEY = "tml-other-user";

async function submitFb(server: LocalServer, modelId: string, seqId: number): Promise<string> {
  const submitted = await postForwardBackward(server.url, modelId, seqId, [ceDatum(TEXT)]);
  assert.equal(submitted.status, 200, submitted.text);
  return (submitted.json as { request_id: string }).request_id;
}

describe("retrieve_future", () => {
  const HOLD_MS = 400;
  const clock = new FakeClock();
  let server: LocalServer;
  let sessionId: string;
  let modelSeq = 0;

  before(async () => {
    server = await startServer({
      apiKeys: [KEY, OTHER_KEY],
      longPollHoldMs: HOLD_MS,
      clock,
      futureRetentionSeconds: 60,
    });
    sessionId = await createSession(server.url, KEY);
  });
  after(() => server.close());

  /** Resolves once the server holds `n` polls of the request (its own in-flight count). */
  const heldPolls = async (target: LocalServer, requestId: string, n = 1) => {
    while (target.futures.heldPolls(requestId) !== n) await new Promise((r) => setImmediate(r));
  };

  test("a pending request is held for the hold time, then answers try_again", async () => {
    const modelId = await createModel(server.url, sessionId, modelSeq++);
    // seq 2 without seq 1 stays pending.
    const requestId = await submitFb(server, modelId, 2);
    let settled = false;
    const polled = retrieve(server.url, requestId, { accept: PROTOBUF }).finally(() => {
      settled = true;
    });
    // Held, by the server's own count, and not answered meanwhile.
    await heldPolls(server, requestId, 1);
    assert.equal(settled, false);
    const result = await polled;
    assert.equal(result.status, 200);
    assert.deepEqual(result.json, { type: "try_again", request_id: requestId, queue_state: "active" });
    assert.equal(server.futures.heldPolls(requestId), 0, "the hold ended");
    assert.equal(server.futures.state(requestId), "queued");
  });

  // A 10-minute hold: were the poll not woken by the result, the test would time out and fail.
  test("a held poll answers as soon as the result is ready", { timeout: 60_000 }, async () => {
    const slow = await startServer({ longPollHoldMs: 600_000 });
    try {
      const sid = await createSession(slow.url);
      const modelId = await createModel(slow.url, sid, 0);
      const requestId = await submitFb(slow, modelId, 2);
      const polled = retrieve(slow.url, requestId, { accept: PROTOBUF });
      await heldPolls(slow, requestId, 1);
      await submitFb(slow, modelId, 1);
      const result = await polled;
      assert.equal(result.contentType, PROTOBUF);
      assert.ok(decodeOutput(result).metrics["loss:sum"]! > 0);
      assert.equal(slow.futures.heldPolls(requestId), 0);
    } finally {
      await slow.close();
    }
  });

  test("a finished result is answered at once and can be fetched again", async () => {
    const modelId = await createModel(server.url, sessionId, modelSeq++);
    const requestId = await submitFb(server, modelId, 1);
    const first = decodeOutput(await poll(server.url, requestId, { accept: PROTOBUF }));
    const again = decodeOutput(await retrieve(server.url, requestId, { accept: PROTOBUF }));
    assert.deepEqual(again, first);
    assert.equal(server.futures.state(requestId), "done");
  });

  test("JSON results stay JSON whatever the Accept header", async () => {
    const requestId = await submit(server.url, "/api/v1/create_model", {
      session_id: sessionId,
      model_seq_id: modelSeq++,
      base_model: "tinker-local/tiny",
      lora_config: { rank: 2 },
      type: "create_model",
    });
    const result = await poll(server.url, requestId, { accept: PROTOBUF });
    assert.match(result.contentType, /application\/json/);
    assert.equal((result.json as { type: string }).type, "create_model");
  });

  test("an unknown request id, or another user's, is 404", async () => {
    const unknown = await post(server.url, "/api/v1/retrieve_future", { request_id: "req-nope" });
    assert.equal(unknown.status, 404);
    assert.match(errorDetail(unknown), /req-nope/);
    const modelId = await createModel(server.url, sessionId, modelSeq++);
    const requestId = await submitFb(server, modelId, 1);
    const foreign = await post(server.url, "/api/v1/retrieve_future", { request_id: requestId }, OTHER_KEY);
    assert.equal(foreign.status, 404);
    const missingField = await post(server.url, "/api/v1/retrieve_future", { allow_metadata_only: true });
    assert.equal(missingField.status, 400);
    assert.match(errorDetail(missingField), /request_id/);
  });

  test("an expired result is 410, also for a poll held while it expires", async () => {
    const modelId = await createModel(server.url, sessionId, modelSeq++);
    const done = await submitFb(server, modelId, 1);
    await poll(server.url, done, { accept: PROTOBUF });
    assert.equal(server.futures.expire(done), true);
    const expired = await retrieve(server.url, done);
    assert.equal(expired.status, 410);
    assert.match((expired.json as { detail: string }).detail, /expired/);
    assert.equal(server.futures.state(done), "expired");

    const held = await submitFb(server, modelId, 3);
    const polled = retrieve(server.url, held);
    await new Promise((resolve) => setTimeout(resolve, 50));
    server.futures.expire(held);
    assert.equal((await polled).status, 410);
    // Another user still gets 404 for an expired id.
    const foreign = await post(server.url, "/api/v1/retrieve_future", { request_id: done }, OTHER_KEY);
    assert.equal(foreign.status, 404);
  });

  test("results are dropped after the retention time (server clock)", async () => {
    const modelId = await createModel(server.url, sessionId, modelSeq++);
    const requestId = await submitFb(server, modelId, 1);
    await poll(server.url, requestId, { accept: PROTOBUF });
    clock.advance(59_000);
    assert.equal((await retrieve(server.url, requestId, { accept: PROTOBUF })).status, 200);
    clock.advance(2_000);
    assert.equal((await retrieve(server.url, requestId, { accept: PROTOBUF })).status, 410);
  });

  test("failNext makes the next request fail with the given error and category, without running", async () => {
    const modelId = await createModel(server.url, sessionId, modelSeq++);
    server.futures.failNext({ error: "injected boom", category: "server", kind: "forward_backward" });
    const failed = await submitFb(server, modelId, 1);
    const result = await poll(server.url, failed, { accept: PROTOBUF });
    assert.equal(result.status, 200);
    assert.deepEqual(result.json, { error: "injected boom", category: "server" });
    assert.equal(server.futures.state(failed), "failed");
    const ok = await submitFb(server, modelId, 2);
    assert.ok(decodeOutput(await poll(server.url, ok, { accept: PROTOBUF })).metrics["loss:sum"]! > 0);
    assert.deepEqual(server.models.appliedSeqIds(modelId), [2]);
  });

  test("heartbeats and polls are answered while training work is queued", async () => {
    const modelId = await createModel(server.url, sessionId, modelSeq++);
    const batch = Array.from({ length: 16 }, (_, i) => ceDatum(`${TEXT} ${i} ${TEXT}`));
    const requestIds: string[] = [];
    // seq 8..1: everything is held until seq 1 arrives, then eight requests are queued at once.
    for (let seq = 8; seq >= 1; seq--) {
      const submitted = await postForwardBackward(server.url, modelId, seq, batch);
      requestIds.unshift((submitted.json as { request_id: string }).request_id);
    }
    const beat = await post(server.url, "/api/v1/session_heartbeat", {
      session_id: sessionId,
      type: "session_heartbeat",
    });
    assert.equal(beat.status, 200);
    // The heartbeat did not wait for the queue: the last request has not run yet.
    assert.equal(server.futures.state(requestIds.at(-1)!), "queued");
    const last = decodeOutput(await poll(server.url, requestIds.at(-1)!, { accept: PROTOBUF }));
    assert.equal(last.loss_fn_outputs.length, 16);
  });

  // A 10-minute hold: were close() to wait for it, the test would time out and fail.
  test("close() answers held polls and does not wait for the hold", { timeout: 60_000 }, async () => {
    const busy = await startServer({ longPollHoldMs: 600_000 });
    const sid = await createSession(busy.url);
    const modelId = await createModel(busy.url, sid, 0);
    const requestId = await submitFb(busy, modelId, 5);
    const polled = retrieve(busy.url, requestId).then(
      (result) => result.status,
      () => "connection closed",
    );
    await heldPolls(busy, requestId, 1);
    await busy.close();
    assert.ok(["connection closed", 200].includes(await polled));
  });
});
