// `tinker session list [--limit 20] [--access-scope owned|accessible]`: session ids; 0 = all.

import { type Command, Option } from "commander";
import type { AccessScope } from "../api/rest-schemas.js";
import {
  type CommonOptions,
  out,
  outputFormat,
  parseWhole,
  printJson,
  withClient,
  withCommonOptions,
} from "./common.js";
import { table } from "./render.js";

const BATCH = 100;

export function register(group: Command): void {
  withCommonOptions(
    group
      .command("list")
      .description("List session ids")
      .option("--limit <n>", "how many sessions to show; 0 shows all", "20")
      .addOption(
        new Option("--access-scope <scope>", "whose sessions")
          .choices(["owned", "accessible"])
          .default("owned"),
      ),
  ).action(async (opts: CommonOptions & { limit: string; accessScope: AccessScope }) => {
    const limit = parseWhole(opts.limit, "--limit");
    const sessions = await withClient(opts, async (client) => {
      const pages = client.listSessions({
        limit: limit === 0 ? BATCH : Math.min(limit, BATCH),
        accessScope: opts.accessScope,
      });
      return limit === 0 ? pages.toArray({ limit: Number.POSITIVE_INFINITY }) : pages.take(limit);
    });
    if (outputFormat(opts) === "json") printJson({ sessions });
    else
      out(
        sessions.length === 0
          ? "No sessions."
          : table(
              ["Session ID"],
              sessions.map((s) => [s]),
            ),
      );
  });
}
