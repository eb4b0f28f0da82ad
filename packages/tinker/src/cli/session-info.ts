// `tinker session info ID`: the training runs and samplers of a session.

import type { Command } from "commander";
import { type CommonOptions, out, outputFormat, printJson, withClient, withCommonOptions } from "./common.js";
import { keyValueTable } from "./render.js";

export function register(group: Command): void {
  withCommonOptions(
    group.command("info").description("Show a session's runs and samplers").argument("<session_id>"),
  ).action(async (sessionId: string, opts: CommonOptions) => {
    const info = await withClient(opts, (client) => client.getSession(sessionId));
    if (outputFormat(opts) === "json") {
      printJson({
        session_id: info.sessionId,
        training_run_ids: info.trainingRunIds,
        sampler_ids: info.samplerIds,
      });
      return;
    }
    out(
      keyValueTable([
        ["Session ID", info.sessionId],
        ["Training runs", info.trainingRunIds.length > 0 ? info.trainingRunIds.join("\n") : "-"],
        ["Samplers", info.samplerIds.length > 0 ? info.samplerIds.join("\n") : "-"],
      ]),
    );
  });
}
