// Offset paging for the REST list calls. A list call returns a PagePromise: awaiting it gives the
// first page (exactly the request the caller asked for, with the contract's defaults), and iterating
// it with `for await` yields every item of every page, fetching the next page only when needed.
// A page knows there is more when the cursor's total_count says so; without a cursor (sessions) a
// full page means "maybe more" and a short or empty page ends the listing.

import { TinkerError, ValidationError } from "../client/errors.js";

/** Which slice of a listing to fetch. */
export interface PageRequest {
  /** Page size, at least 1. */
  limit: number;
  /** Items to skip, at least 0. */
  offset: number;
}

/** One fetched page, before it becomes a {@link Page}. */
export interface PageData<T> {
  /** The page's items, in the server's order. */
  items: T[];
  /** From the response's cursor; undefined when the response had none. */
  totalCount: number | undefined;
}

/** Fetches one page. Receives the caller's signal through the closure that builds it. */
export type PageFetcher<T> = (request: PageRequest) => Promise<PageData<T>>;

/**
 * Most items `toArray()` collects unless told otherwise: a guard against pulling a huge listing
 * into memory by accident.
 */
export const DEFAULT_TO_ARRAY_LIMIT = 10_000;

/** `toArray()` would have collected more items than its bound allows. */
export class PageLimitError extends TinkerError {
  override name = "PageLimitError";
  /** The bound that was reached. */
  readonly limit: number;
  /**
   * The message says how to collect more (a larger `limit`, or `for await`); `total` is included
   * when known.
   */
  constructor(limit: number, total: number | undefined) {
    super(
      `The listing has more than ${limit} items${total !== undefined ? ` (${total} in all)` : ""}; ` +
        `toArray() stops at ${limit}. Pass toArray({ limit: n }) with a larger n, or iterate with for await.`,
    );
    this.limit = limit;
  }
}

/** Options of `toArray()`. */
export interface ToArrayOptions {
  /** Most items to collect; more than this is an error (PageLimitError). Default 10 000. */
  limit?: number;
}

function checkBound(limit: number | undefined): number {
  const bound = limit ?? DEFAULT_TO_ARRAY_LIMIT;
  if (bound !== Number.POSITIVE_INFINITY && (!Number.isSafeInteger(bound) || bound < 0)) {
    throw new ValidationError(
      `toArray limit must be a whole number >= 0 (or Infinity), got ${bound}`,
      "limit",
    );
  }
  return bound;
}

async function collect<T>(items: AsyncIterable<T>, bound: number, total: number | undefined): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) {
    if (out.length >= bound) throw new PageLimitError(bound, total);
    out.push(item);
  }
  return out;
}

/**
 * One page of a REST listing. Iterate it with `for await` for every item from here on (later
 * pages are fetched as needed), or step with `hasNextPage()` / `nextPage()`.
 */
export class Page<T> implements AsyncIterable<T> {
  /** This page's items. */
  readonly items: T[];
  /** The page size that was asked for. */
  readonly limit: number;
  /** Items before this page. */
  readonly offset: number;
  /** Items in all pages, when the server said (a cursor); undefined otherwise. */
  readonly totalCount: number | undefined;
  readonly #fetch: PageFetcher<T>;

  /** Made by the SDK's list calls; `fetchPage` fetches any later page. */
  constructor(request: PageRequest, data: PageData<T>, fetchPage: PageFetcher<T>) {
    this.items = data.items;
    this.limit = request.limit;
    this.offset = request.offset;
    this.totalCount = data.totalCount;
    this.#fetch = fetchPage;
  }

  /** Where the next page starts. */
  get nextOffset(): number {
    return this.offset + this.items.length;
  }

  /**
   * Whether a later page may hold items: by the cursor's total when the server sent one, else
   * when this page is full. An empty page always ends the listing.
   */
  hasNextPage(): boolean {
    // An empty page ends the listing whatever the cursor claims: no request could make progress.
    if (this.items.length === 0) return false;
    if (this.totalCount !== undefined) return this.nextOffset < this.totalCount;
    return this.items.length >= this.limit;
  }

  /** Fetches the following page; check `hasNextPage()` first. */
  async nextPage(): Promise<Page<T>> {
    if (!this.hasNextPage()) throw new TinkerError("There is no next page; check hasNextPage() first.");
    const request = { limit: this.limit, offset: this.nextOffset };
    return new Page(request, await this.#fetch(request), this.#fetch);
  }

  /** This page and every later one. */
  async *pages(): AsyncGenerator<Page<T>> {
    let page: Page<T> = this;
    // Each step moves the offset forward by at least one item, so this ends.
    for (;;) {
      yield page;
      if (!page.hasNextPage()) return;
      page = await page.nextPage();
    }
  }

  /** Every item from this page on. */
  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    for await (const page of this.pages()) yield* page.items;
  }

  /**
   * Every item from this page on, as an array. Refuses to grow past `limit` (default 10 000):
   * throws PageLimitError, before fetching when the cursor already tells the total.
   */
  async toArray(options: ToArrayOptions = {}): Promise<T[]> {
    const bound = checkBound(options.limit);
    if (this.totalCount !== undefined && this.totalCount - this.offset > bound) {
      throw new PageLimitError(bound, this.totalCount);
    }
    return collect(this, bound, this.totalCount);
  }
}

/**
 * The result of a list call: await it for the first page, or iterate it for every item.
 * The first page is fetched once, when first needed, and shared.
 */
export class PagePromise<T> implements Promise<Page<T>>, AsyncIterable<T> {
  /** `"PagePromise"`, what `Object.prototype.toString` shows. */
  readonly [Symbol.toStringTag] = "PagePromise";
  readonly #request: PageRequest;
  readonly #fetch: PageFetcher<T>;
  #first: Promise<Page<T>> | undefined;

  /** Made by the SDK's list calls; nothing is fetched until it is awaited or iterated. */
  constructor(request: PageRequest, fetchPage: PageFetcher<T>) {
    this.#request = request;
    this.#fetch = fetchPage;
  }

  #firstPage(): Promise<Page<T>> {
    this.#first ??= this.#fetch(this.#request).then((data) => new Page(this.#request, data, this.#fetch));
    return this.#first;
  }

  // biome-ignore lint/suspicious/noThenProperty: a PagePromise is awaitable by design
  then<R1 = Page<T>, R2 = never>(
    onFulfilled?: ((page: Page<T>) => R1 | PromiseLike<R1>) | null,
    onRejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    return this.#firstPage().then(onFulfilled, onRejected);
  }

  catch<R = never>(onRejected?: ((reason: unknown) => R | PromiseLike<R>) | null): Promise<Page<T> | R> {
    return this.#firstPage().catch(onRejected);
  }

  finally(onFinally?: (() => void) | null): Promise<Page<T>> {
    return this.#firstPage().finally(onFinally);
  }

  /** Every item of every page, fetching each page when the previous one is used up. */
  async *[Symbol.asyncIterator](): AsyncGenerator<T> {
    yield* await this.#firstPage();
  }

  /** Every item of every page (see Page.toArray). */
  async toArray(options: ToArrayOptions = {}): Promise<T[]> {
    const bound = checkBound(options.limit);
    return (await this.#firstPage()).toArray({ limit: bound });
  }

  /** The first `n` items across pages (fewer if the listing is shorter). */
  async take(n: number): Promise<T[]> {
    if (!Number.isSafeInteger(n) || n < 0)
      throw new ValidationError(`take(n) needs a whole number >= 0, got ${n}`, "n");
    const out: T[] = [];
    if (n === 0) return out;
    for await (const item of this) {
      out.push(item);
      if (out.length >= n) break;
    }
    return out;
  }
}

/** Checks `limit`/`offset` of a list call before anything is sent. */
export function checkPageRequest(limit: number, offset: number, maxLimit?: number): PageRequest {
  if (!Number.isSafeInteger(limit) || limit < 1 || (maxLimit !== undefined && limit > maxLimit)) {
    throw new ValidationError(
      `limit must be a whole number from 1${maxLimit !== undefined ? ` to ${maxLimit}` : " up"}, got ${limit}`,
      "limit",
    );
  }
  if (!Number.isSafeInteger(offset) || offset < 0) {
    throw new ValidationError(`offset must be a whole number >= 0, got ${offset}`, "offset");
  }
  return { limit, offset };
}
