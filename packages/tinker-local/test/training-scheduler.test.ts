// Unit tests of the ordering logic (SeqStream) and the work queue, without HTTP.
import assert from "node:assert/strict";
import { test } from "node:test";
import { LaneQueue, type SeqEntry, SeqStream } from "../src/engine/scheduler.js";

function stream(keepBehind = 3, maxAhead = 5, maxHeld = 1000, maxHeldBytes = 1 << 30) {
  const released: number[] = [];
  const abandoned: number[][] = [];
  const seqs = new SeqStream("m", {
    gapTimeoutMs: 60_000,
    maxAhead,
    keepBehind,
    maxHeld,
    maxHeldBytes,
    release: (seqId, run) => {
      released.push(seqId);
      run();
    },
    abandon: (held) => abandoned.push(held.map((h) => h.seqId)),
  });
  return { seqs, released, abandoned };
}

const entry = (n: number): SeqEntry => ({ requestId: `req-${n}`, kind: "optim_step" });

test("SeqStream releases in seq order whatever the arrival order", () => {
  const { seqs, released } = stream(100, 100);
  for (const n of [4, 2, 3]) seqs.accept(n, entry(n), () => {});
  assert.deepEqual(released, []);
  assert.deepEqual(seqs.heldSeqIds(), [2, 3, 4]);
  seqs.accept(1, entry(1), () => {});
  assert.deepEqual(released, [1, 2, 3, 4]);
  assert.equal(seqs.nextSeqId, 5);
  seqs.close();
});

test("SeqStream remembers keepBehind seq ids; an older unknown one is refused with 400", () => {
  const { seqs } = stream(3, 100);
  for (let n = 1; n <= 6; n++) seqs.accept(n, entry(n), () => {});
  assert.equal(seqs.lookup(6)?.requestId, "req-6");
  assert.equal(seqs.lookup(4)?.requestId, "req-4");
  assert.equal(seqs.lookup(2), undefined);
  assert.throws(
    () => seqs.check(2),
    (error: Error & { statusCode?: number }) =>
      error.statusCode === 400 && /lower than the requests already run/.test(error.message),
  );
  assert.throws(() => seqs.check(7 + 100), /too far ahead/);
  seqs.check(7);
  seqs.close();
});

test("SeqStream abandons held requests after the gap timeout and skips them later", async (t) => {
  t.mock.timers.enable({ apis: ["setTimeout"] });
  const { seqs, released, abandoned } = stream(100, 100);
  seqs.accept(2, entry(2), () => {});
  seqs.accept(3, entry(3), () => {});
  t.mock.timers.tick(59_999);
  assert.deepEqual(abandoned, []);
  t.mock.timers.tick(1);
  assert.deepEqual(abandoned, [[2, 3]]);
  assert.deepEqual(seqs.heldSeqIds(), []);
  seqs.accept(1, entry(1), () => {});
  seqs.accept(4, entry(4), () => {});
  assert.deepEqual(released, [1, 4]);
  seqs.close();
});

test("LaneQueue runs each lane's jobs in order, awaiting each, lanes side by side; a throwing job does not stop its lane", async () => {
  const errors: unknown[] = [];
  const queue = new LaneQueue((error) => errors.push(error));
  const order: string[] = [];
  let releaseA: () => void = () => {};
  const aHeld = new Promise<void>((resolve) => {
    releaseA = resolve;
  });
  queue.push("x", async () => {
    order.push("x1 start");
    await aHeld;
    order.push("x1 end");
  });
  queue.push("x", () => {
    throw new Error("boom");
  });
  queue.push("x", () => order.push("x3"));
  queue.push("y", () => order.push("y1"));
  // Nothing runs synchronously: the submitting request is answered first.
  assert.equal(order.length, 0);
  // Lane y runs while lane x's first job is still waiting.
  while (!order.includes("y1")) await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(order, ["x1 start", "y1"]);
  assert.equal(queue.size, 3);
  releaseA();
  await queue.idle();
  assert.deepEqual(order, ["x1 start", "y1", "x1 end", "x3"]);
  assert.equal(errors.length, 1);
  await queue.close();
  queue.push("x", () => order.push("after close"));
  await queue.idle();
  assert.deepEqual(order, ["x1 start", "y1", "x1 end", "x3"]);
});

test("SeqStream bounds what it holds by count and bytes, and frees it on release, abandon and close", async () => {
  const { seqs, released } = stream(100, 100, 2, 100);
  seqs.accept(2, entry(2), () => {}, 40);
  seqs.accept(3, entry(3), () => {}, 40);
  assert.equal(seqs.heldByteCount, 80);
  // A third held request is past the count; a 30-byte one past the bytes.
  assert.throws(
    () => seqs.accept(4, entry(4), () => {}, 1),
    (e: Error & { statusCode?: number }) =>
      e.statusCode === 429 && /2 requests are already held/.test(e.message),
  );
  assert.deepEqual(seqs.heldSeqIds(), [2, 3]);
  // The next seq is never held, so it is never refused, whatever its size.
  seqs.accept(1, entry(1), () => {}, 10_000);
  assert.deepEqual(released, [1, 2, 3]);
  assert.equal(seqs.heldByteCount, 0);
  seqs.accept(5, entry(5), () => {}, 90);
  assert.throws(
    () => seqs.accept(6, entry(6), () => {}, 20),
    (e: Error & { statusCode?: number }) => e.statusCode === 429 && /90 \+ 20 bytes/.test(e.message),
  );
  assert.equal(seqs.heldByteCount, 90);
  // Closing hands back what was held and frees its bytes.
  assert.deepEqual(
    seqs.close().map((h) => h.seqId),
    [5],
  );
  assert.equal(seqs.heldByteCount, 0);
});

test("SeqStream frees the bytes of requests abandoned by the gap timeout", async () => {
  const abandoned: number[][] = [];
  const seqs = new SeqStream("m", {
    gapTimeoutMs: 1,
    maxAhead: 100,
    keepBehind: 100,
    maxHeld: 10,
    maxHeldBytes: 100,
    release: (_seqId, run) => run(),
    abandon: (held) => abandoned.push(held.map((h) => h.seqId)),
  });
  seqs.accept(2, entry(2), () => {}, 60);
  seqs.accept(3, entry(3), () => {}, 40);
  while (abandoned.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  assert.deepEqual(abandoned, [[2, 3]]);
  assert.equal(seqs.heldByteCount, 0);
  seqs.accept(4, entry(4), () => {}, 100);
  assert.deepEqual(seqs.heldSeqIds(), [4]);
  seqs.close();
});
