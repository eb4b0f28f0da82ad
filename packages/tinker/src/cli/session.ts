// `tinker session ...`: sessions (contract 3.5, 3.11).

import type { Command } from "commander";
import * as exportTrace from "./session-export-trace.js";
import * as info from "./session-info.js";
import * as list from "./session-list.js";

export function register(program: Command): void {
  const group = program.command("session").description("Sessions: list, inspect, export a trace");
  list.register(group);
  info.register(group);
  exportTrace.register(group);
}
