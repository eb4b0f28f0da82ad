#!/usr/bin/env node
// tinker-cookbook plot RUN_DIR: draws a run's curves in the terminal and writes report.html.

import { RecipeError } from "../run/errors.js";
import { plotRun } from "./plot.js";

const [command, runDir] = process.argv.slice(2);
if (command !== "plot" || !runDir) {
  process.stderr.write("usage: tinker-cookbook plot RUN_DIR\n");
  process.exit(2);
}
try {
  const result = await plotRun(runDir);
  process.stdout.write(`${result.text}\n\nreport: ${result.htmlPath}\n`);
} catch (e) {
  if (!(e instanceof RecipeError)) throw e;
  process.stderr.write(`tinker-cookbook: ${e.message}\n`);
  process.exit(1);
}
