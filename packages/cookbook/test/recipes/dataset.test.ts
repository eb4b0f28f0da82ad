// The streaming conversation dataset: the JSONL index (blank lines, CRLF, no final newline, bad
// records), seeded epochs, batching by examples and by tokens, truncation counts, and that the
// batches after a saved position are the ones an uninterrupted pass reads.

import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { ByteLevelTokenizer } from "tinker-ts";
import { getRenderer, RecipeError, supervised } from "../../src/index.js";

const dir = mkdtempSync(join(tmpdir(), "cookbook-dataset-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const renderer = getRenderer("role_colon", new ByteLevelTokenizer());

function conversation(i: number): string {
  return JSON.stringify({
    messages: [
      { role: "user", content: `q${i}` },
      { role: "assistant", content: "a".repeat(1 + (i % 5)) },
    ],
  });
}

function writeJsonl(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const tenPath = writeJsonl("ten.jsonl", Array.from({ length: 10 }, (_, i) => conversation(i)).join("\n"));
const firstUser = (batch: supervised.Batch) =>
  batch.data.map((d) =>
    new TextDecoder().decode(Uint8Array.from(d.modelInput.toInts().filter((t) => t < 256))),
  );

describe("JsonlFile", () => {
  it("indexes non-blank lines, with CRLF and without a final newline", () => {
    const path = writeJsonl("mixed.jsonl", '{"a":1}\r\n\n  \n{"a":2}\n{"a":3}');
    const file = supervised.JsonlFile.open(path);
    assert.equal(file.length, 3);
    assert.deepEqual(
      [0, 1, 2].map((i) => file.record(i)),
      [{ a: 1 }, { a: 2 }, { a: 3 }],
    );
    assert.equal(file.indexBytes, 36);
    file.close();
  });
  it("a broken record names its index and byte offset", () => {
    const file = supervised.JsonlFile.open(writeJsonl("bad.jsonl", '{"a":1}\n{oops\n'));
    assert.throws(() => file.record(1), /record 1 \(at byte 8\) is not JSON/);
    assert.throws(() => file.record(2), RecipeError);
    file.close();
  });
  it("a missing file is a RecipeError", () => {
    assert.throws(() => supervised.JsonlFile.open(join(dir, "none.jsonl")), /cannot open/);
  });
});

describe("permutation", () => {
  it("is a permutation, the same for the same seed, another for another seed", () => {
    const a = supervised.permutation(50, 7);
    assert.deepEqual(
      [...a].sort((x, y) => x - y),
      Array.from({ length: 50 }, (_, i) => i),
    );
    assert.deepEqual(a, supervised.permutation(50, 7));
    assert.notDeepEqual(a, supervised.permutation(50, 8));
    assert.deepEqual([...supervised.permutation(4, undefined)], [0, 1, 2, 3]);
  });
});

describe("ConversationBatches", () => {
  it("by examples: every record once per epoch, a short last batch, epochs in different orders", () => {
    const file = supervised.JsonlFile.open(tenPath);
    const batches = new supervised.ConversationBatches(file, {
      renderer,
      batchSize: { examples: 4 },
      seed: 3,
    });
    let position: supervised.DataPosition = { epoch: 0, cursor: 0 };
    const epochs: string[][] = [[], []];
    const sizes: number[] = [];
    for (let s = 0; s < batches.countSteps(2); s++) {
      const b = batches.next(position);
      epochs[b.next.epoch]!.push(...firstUser(b));
      sizes.push(b.data.length);
      position = b.next;
    }
    assert.deepEqual(sizes, [4, 4, 2, 4, 4, 2]);
    assert.equal(new Set(epochs[0]).size, 10);
    assert.deepEqual([...epochs[0]!].sort(), [...epochs[1]!].sort());
    assert.notDeepEqual(epochs[0], epochs[1]);
    file.close();
  });
  it("the batch after a saved position is the one a continuous pass reads", () => {
    const file = supervised.JsonlFile.open(tenPath);
    const options = { renderer, batchSize: { tokens: 40 }, seed: 1 } as const;
    const a = new supervised.ConversationBatches(file, options);
    let p: supervised.DataPosition = { epoch: 0, cursor: 0 };
    const continuous: string[][] = [];
    const positions: supervised.DataPosition[] = [];
    for (let s = 0; s < 8; s++) {
      positions.push(p);
      const b = a.next(p);
      continuous.push(firstUser(b));
      p = b.next;
    }
    const b = new supervised.ConversationBatches(file, options); // a new process: nothing cached
    assert.deepEqual(firstUser(b.next(JSON.parse(JSON.stringify(positions[5])))), continuous[5]);
    file.close();
  });
  it("by tokens: batches stay within the budget unless one example alone exceeds it", () => {
    const file = supervised.JsonlFile.open(tenPath);
    const batches = new supervised.ConversationBatches(file, {
      renderer,
      batchSize: { tokens: 40 },
      seed: 0,
    });
    let p: supervised.DataPosition = { epoch: 0, cursor: 0 };
    let seen = 0;
    while (p.epoch === 0 && p.cursor < 10) {
      const b = batches.next(p);
      assert.ok(b.stats.tokens <= 40 || b.data.length === 1, JSON.stringify(b.stats));
      assert.equal(
        b.stats.tokens,
        b.data.reduce((s, d) => s + d.modelInput.length + 1, 0),
      );
      seen += b.data.length;
      p = b.next;
    }
    assert.equal(seen, 10);
    assert.equal(batches.countSteps(1) > 1, true);
    file.close();
  });
  it("truncation to maxLength is counted: examples cut and tokens cut", () => {
    const file = supervised.JsonlFile.open(tenPath);
    const full = new supervised.ConversationBatches(file, {
      renderer,
      batchSize: { examples: 10 },
      seed: 0,
      shuffle: false,
    });
    const lengths = full.next({ epoch: 0, cursor: 0 }).data.map((d) => d.modelInput.length + 1);
    const maxLength = Math.max(...lengths) - 2; // cuts the longest by at most 2: trained tokens remain
    const cut = new supervised.ConversationBatches(file, {
      renderer,
      batchSize: { examples: 10 },
      seed: 0,
      shuffle: false,
      maxLength,
    });
    const b = cut.next({ epoch: 0, cursor: 0 });
    assert.equal(b.stats.truncated, lengths.filter((n) => n > maxLength).length);
    assert.equal(
      b.stats.cutTokens,
      lengths.reduce((s, n) => s + Math.max(0, n - maxLength), 0),
    );
    assert.ok(b.stats.truncated > 0 && b.stats.truncated < 10);
    assert.equal(b.stats.skipped, 0);
    assert.ok(b.data.every((d) => d.modelInput.length + 1 <= maxLength));
    file.close();
  });
  it("a record with no trained token left is skipped and counted", () => {
    const file = supervised.JsonlFile.open(tenPath);
    const tiny = new supervised.ConversationBatches(file, {
      renderer,
      batchSize: { examples: 10 },
      seed: 0,
      maxLength: 3,
    });
    const b = tiny.next({ epoch: 0, cursor: 0 });
    assert.equal(b.stats.skipped, 10);
    assert.equal(b.data.length, 0);
    file.close();
  });
  it("a record without messages is a RecipeError naming it", () => {
    const file = supervised.JsonlFile.open(writeJsonl("nomsg.jsonl", '{"text":"hi"}\n'));
    const b = new supervised.ConversationBatches(file, { renderer, batchSize: { examples: 1 }, seed: 0 });
    assert.throws(() => b.next({ epoch: 0, cursor: 0 }), /record 0: expected \{"messages"/);
    file.close();
  });
});
