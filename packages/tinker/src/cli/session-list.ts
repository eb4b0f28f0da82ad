// `tinker session list [--limit 20] [--access-scope owned|accessible]`: session ids; 0 = all.

import type { Command } from "commander";
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
import { accessScopeOption, takeListed } from "./list-command.js";
import { table } from "./render.js";

const BATCH = 100;

export function register(group: Command): void {
  withCommonOptions(
    group
      .command("list")
      .description("List session ids")
      .option("--limit <n>", "how many sessions to show; 0 shows all", "20")
      .addOption(accessScopeOption("whose sessions")),
  ).action(async (opts: CommonOptions & { limit: string; accessScope: AccessScope }) => {
    const limit = parseWhole(opts.limit, "--limit");
    const sessions = await withClient(opts, (client) =>
      takeListed(limit, BATCH, (pageSize) =>
        client.listSessions({ limit: pageSize, accessScope: opts.accessScope }),
      ),
    );
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
