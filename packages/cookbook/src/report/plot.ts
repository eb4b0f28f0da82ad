// `plot RUN_DIR`: the run's curves in the terminal, and `report.html` written into the run folder.

import { writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { RecipeError } from "../run/errors.js";
import { htmlReport } from "./html-report.js";
import { runSeries } from "./series.js";
import { terminalCharts } from "./terminal-chart.js";

/** What `plotRun` made. */
export interface PlotResult {
  /** The terminal charts. */
  text: string;
  /** Where the HTML report was written. */
  htmlPath: string;
  /** Metrics charted in the HTML report, with their point counts. */
  charts: {
    /** The metric's key, as written in `metrics.jsonl`. */
    metric: string;
    /** How many steps logged a value for it. */
    points: number;
  }[];
}

/** Charts a run folder: terminal text, and `<runDir>/report.html`. */
export async function plotRun(runDir: string): Promise<PlotResult> {
  const series = runSeries(runDir);
  if (series.length === 0) throw new RecipeError(`${runDir} has no metrics to plot (no metrics.jsonl rows)`);
  const htmlPath = join(runDir, "report.html");
  writeFileSync(htmlPath, await htmlReport(`Run ${basename(resolve(runDir))}`, series));
  return {
    text: terminalCharts(series),
    htmlPath,
    charts: series.map((s) => ({ metric: s.metric, points: s.points.length })),
  };
}
