// `tinker version`: prints the SDK version. No network.

import type { Command } from "commander";
import { SDK_VERSION } from "../client/version.js";

export function register(program: Command): void {
  program
    .command("version")
    .description("Print the tinker-ts version")
    .action(() => {
      process.stdout.write(`tinker-ts ${SDK_VERSION}\n`);
    });
}
