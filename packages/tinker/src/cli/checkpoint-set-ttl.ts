// `tinker checkpoint set-ttl PATH (--ttl SECONDS | --remove)`.

import type { Command } from "commander";
import { ValidationError } from "../client/errors.js";
import { parseTinkerPath } from "../paths/tinker-path.js";
import {
  type CommonOptions,
  out,
  outputFormat,
  parseWhole,
  printJson,
  withClient,
  withCommonOptions,
} from "./common.js";

export function register(group: Command): void {
  withCommonOptions(
    group
      .command("set-ttl")
      .description("Make a checkpoint expire SECONDS from now, or never (--remove)")
      .argument("<path>", "tinker:// path")
      .option("--ttl <seconds>", "seconds from now until the checkpoint is deleted")
      .option("--remove", "remove the expiry: keep the checkpoint until deleted"),
  ).action(async (path: string, opts: CommonOptions & { ttl?: string; remove?: boolean }) => {
    if ((opts.ttl === undefined) === (opts.remove !== true)) {
      throw new ValidationError("Give exactly one of --ttl SECONDS or --remove", "ttl");
    }
    parseTinkerPath(path);
    const ttl = opts.ttl === undefined ? null : parseWhole(opts.ttl, "--ttl", 1);
    await withClient(opts, (client) => client.setCheckpointTtl(path, ttl));
    if (outputFormat(opts) === "json") printJson({ tinker_path: path, ttl_seconds: ttl });
    else out(ttl === null ? `Removed the expiry of ${path}` : `${path} now expires in ${ttl} s`);
  });
}
