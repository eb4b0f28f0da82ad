// `tinker checkpoint publish PATH` / `unpublish PATH`. Publishing twice is a conflict (exit 5).

import type { Command } from "commander";
import { parseTinkerPath } from "../paths/tinker-path.js";
import { type CommonOptions, out, outputFormat, printJson, withClient, withCommonOptions } from "./common.js";

function registerOne(group: Command, name: "publish" | "unpublish"): void {
  const makePublic = name === "publish";
  withCommonOptions(
    group
      .command(name)
      .description(
        makePublic ? "Make a checkpoint public (readable by other users)" : "Make a checkpoint private again",
      )
      .argument("<path>", "tinker:// path"),
  ).action(async (path: string, opts: CommonOptions) => {
    parseTinkerPath(path);
    await withClient(opts, (client) =>
      makePublic ? client.publishCheckpoint(path) : client.unpublishCheckpoint(path),
    );
    if (outputFormat(opts) === "json") printJson({ tinker_path: path, public: makePublic });
    else out(`${makePublic ? "Published" : "Unpublished"} ${path}`);
  });
}

export function register(group: Command): void {
  registerOne(group, "publish");
  registerOne(group, "unpublish");
}
