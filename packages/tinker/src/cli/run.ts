// `tinker run ...`: training runs (contract 3.4, 3.11).

import type { Command } from "commander";
import * as info from "./run-info.js";
import * as list from "./run-list.js";

export function register(program: Command): void {
  const group = program.command("run").description("Training runs");
  list.register(group);
  info.register(group);
}
