// The paging iterator: what a page request asks for, when it stops (total_count, short page, empty
// page), that every item comes exactly once, and the bound on toArray. The fetcher here is an
// in-process list (this is paging logic; the wire is covered by rest-client-integration).

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { ValidationError } from "tinker-ts";
import {
  checkPageRequest,
  type Page,
  PageLimitError,
  PagePromise,
  type PageRequest,
} from "../src/api/paging.js";

function source(n: number, opts: { cursor?: boolean; lie?: number } = {}) {
  const all = Array.from({ length: n }, (_, i) => i);
  const requests: PageRequest[] = [];
  const fetchPage = async (req: PageRequest) => {
    requests.push({ ...req });
    return {
      items: all.slice(req.offset, req.offset + req.limit),
      totalCount: opts.cursor === false ? undefined : (opts.lie ?? n),
    };
  };
  return { requests, fetchPage };
}

describe("PagePromise / Page", () => {
  it("awaiting gives exactly the first page, fetched once", async () => {
    const s = source(250);
    const pending = new PagePromise({ limit: 100, offset: 0 }, s.fetchPage);
    const page = await pending;
    const again = await pending;
    assert.equal(page, again);
    assert.deepEqual(s.requests, [{ limit: 100, offset: 0 }]);
    assert.equal(page.items.length, 100);
    assert.equal(page.totalCount, 250);
    assert.equal(page.hasNextPage(), true);
  });

  it("for await yields every item exactly once across pages, using total_count", async () => {
    const s = source(250);
    const seen: number[] = [];
    for await (const item of new PagePromise({ limit: 100, offset: 0 }, s.fetchPage)) seen.push(item);
    assert.deepEqual(
      seen,
      Array.from({ length: 250 }, (_, i) => i),
    );
    assert.deepEqual(
      s.requests.map((r) => r.offset),
      [0, 100, 200],
      "the third page is short; total_count says it is the last",
    );
  });

  it("total_count ends the listing even when the last page is full", async () => {
    const s = source(200);
    const items = await new PagePromise({ limit: 100, offset: 0 }, s.fetchPage).toArray();
    assert.equal(items.length, 200);
    assert.equal(s.requests.length, 2, "no third request for an empty page");
  });

  it("without a cursor, a short page ends the listing; a full last page costs one empty request", async () => {
    const short = source(45, { cursor: false });
    assert.equal((await new PagePromise({ limit: 20, offset: 0 }, short.fetchPage).toArray()).length, 45);
    assert.deepEqual(
      short.requests.map((r) => r.offset),
      [0, 20, 40],
    );
    const full = source(40, { cursor: false });
    assert.equal((await new PagePromise({ limit: 20, offset: 0 }, full.fetchPage).toArray()).length, 40);
    assert.deepEqual(
      full.requests.map((r) => r.offset),
      [0, 20, 40],
    );
  });

  it("an empty page ends the listing even if total_count claims more (no endless loop)", async () => {
    const s = source(30, { lie: 1000 });
    const items = await new PagePromise({ limit: 20, offset: 0 }, s.fetchPage).toArray();
    assert.equal(items.length, 30);
    assert.deepEqual(
      s.requests.map((r) => r.offset),
      [0, 20, 30],
    );
  });

  it("a listing that starts at an offset iterates from there", async () => {
    const s = source(55);
    const items = await new PagePromise({ limit: 20, offset: 50 }, s.fetchPage).toArray();
    assert.deepEqual(items, [50, 51, 52, 53, 54]);
  });

  it("toArray refuses to grow past its bound; before fetching when total_count tells", async () => {
    const s = source(250);
    await assert.rejects(
      new PagePromise({ limit: 100, offset: 0 }, s.fetchPage).toArray({ limit: 200 }),
      (e) => {
        assert.ok(e instanceof PageLimitError);
        assert.match(e.message, /more than 200 items \(250 in all\).*toArray\(\{ limit: n \}\)/);
        return true;
      },
    );
    assert.equal(s.requests.length, 1, "only the first page was fetched");
    const exact = await new PagePromise({ limit: 100, offset: 0 }, source(250).fetchPage).toArray({
      limit: 250,
    });
    assert.equal(exact.length, 250);

    const noCursor = source(45, { cursor: false });
    await assert.rejects(
      new PagePromise({ limit: 20, offset: 0 }, noCursor.fetchPage).toArray({ limit: 30 }),
      PageLimitError,
    );
    assert.ok(noCursor.requests.length <= 2, "stops as soon as the bound is passed");
  });

  it("the default bound is 10 000 and can be raised", async () => {
    const s = source(10_001);
    await assert.rejects(
      new PagePromise({ limit: 1000, offset: 0 }, s.fetchPage).toArray(),
      /more than 10000/,
    );
    const all = await new PagePromise({ limit: 1000, offset: 0 }, s.fetchPage).toArray({
      limit: Number.POSITIVE_INFINITY,
    });
    assert.equal(all.length, 10_001);
    await assert.rejects(
      new PagePromise({ limit: 1, offset: 0 }, s.fetchPage).toArray({ limit: -1 }),
      ValidationError,
    );
  });

  it("take(n) stops fetching once it has n items", async () => {
    const s = source(1000);
    const first = await new PagePromise({ limit: 100, offset: 0 }, s.fetchPage).take(150);
    assert.equal(first.length, 150);
    assert.equal(s.requests.length, 2);
    assert.deepEqual(await new PagePromise({ limit: 100, offset: 0 }, s.fetchPage).take(0), []);
  });

  it("nextPage walks page by page and refuses past the end", async () => {
    const s = source(25);
    let page: Page<number> = await new PagePromise({ limit: 10, offset: 0 }, s.fetchPage);
    const offsets = [page.offset];
    while (page.hasNextPage()) {
      page = await page.nextPage();
      offsets.push(page.offset);
    }
    assert.deepEqual(offsets, [0, 10, 20]);
    await assert.rejects(page.nextPage(), /no next page/);
  });

  it("errors of a later page reach the iterating caller", async () => {
    let calls = 0;
    const failing = new PagePromise({ limit: 2, offset: 0 }, async (req) => {
      calls++;
      if (req.offset > 0) throw new Error("boom on page 2");
      return { items: [1, 2], totalCount: 10 };
    });
    await assert.rejects(failing.toArray(), /boom on page 2/);
    assert.equal(calls, 2);
  });

  it("every size and page size yields each item once, in order (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 120 }),
        fc.integer({ min: 1, max: 30 }),
        fc.boolean(),
        async (n, limit, cursor) => {
          const s = source(n, { cursor });
          const items = await new PagePromise({ limit, offset: 0 }, s.fetchPage).toArray();
          assert.deepEqual(
            items,
            Array.from({ length: n }, (_, i) => i),
          );
          assert.ok(s.requests.length <= Math.floor(n / limit) + 1);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("checkPageRequest", () => {
  it("refuses a bad limit or offset before anything is sent", () => {
    assert.deepEqual(checkPageRequest(20, 0), { limit: 20, offset: 0 });
    assert.throws(() => checkPageRequest(0, 0), /limit must be a whole number from 1/);
    assert.throws(() => checkPageRequest(1.5, 0), ValidationError);
    assert.throws(() => checkPageRequest(20, -1), /offset must be a whole number >= 0/);
    assert.throws(() => checkPageRequest(2000, 0, 1000), /from 1 to 1000/);
  });
});
