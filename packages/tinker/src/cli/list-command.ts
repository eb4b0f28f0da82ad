// What the list commands share: --limit N shows the first N items (0 shows all), fetched in pages
// no larger than a small limit needs; and --access-scope where the server scopes the listing.

import { Option } from "commander";
import type { PagePromise } from "../api/paging.js";

/** --access-scope owned|accessible, owned unless given. */
export function accessScopeOption(description: string): Option {
  return new Option("--access-scope <scope>", description).choices(["owned", "accessible"]).default("owned");
}

/**
 * The first `limit` items of a listing, or all of them when `limit` is 0. `list` is asked for
 * pages of `limit` items, at most `maxPageSize`.
 */
export function takeListed<T>(
  limit: number,
  maxPageSize: number,
  list: (pageSize: number) => PagePromise<T>,
): Promise<T[]> {
  const pages = list(limit === 0 ? maxPageSize : Math.min(limit, maxPageSize));
  return limit === 0 ? pages.toArray({ limit: Number.POSITIVE_INFINITY }) : pages.take(limit);
}
