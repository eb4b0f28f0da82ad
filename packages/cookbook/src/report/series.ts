// The curves of a run: one series per numeric metric of `metrics.jsonl` (step and wall-clock
// bookkeeping left out), each with one point per row that logged it.

import { join } from "node:path";
import { RUN_FILES, readMetrics } from "../run/run-dir.js";

/** One metric over the steps that logged it. */
export interface MetricSeries {
  /** The metric's key in metrics.jsonl (e.g. `loss`, `nll`, `reward`). */
  metric: string;
  /** `[step, value]` pairs in file order. */
  points: [number, number][];
}

const NOT_CURVES = new Set(["step", "seconds", "epoch"]);

/** Every numeric metric of the rows, in order of first appearance. */
export function metricSeries(rows: readonly Record<string, unknown>[]): MetricSeries[] {
  const byName = new Map<string, [number, number][]>();
  for (const row of rows) {
    const step = row.step;
    if (typeof step !== "number") continue;
    for (const [key, value] of Object.entries(row)) {
      if (NOT_CURVES.has(key) || typeof value !== "number" || !Number.isFinite(value)) continue;
      const points = byName.get(key) ?? [];
      if (points.length === 0) byName.set(key, points);
      points.push([step, value]);
    }
  }
  return [...byName].map(([metric, points]) => ({ metric, points }));
}

/** The series of a run folder. */
export function runSeries(runDir: string): MetricSeries[] {
  return metricSeries(readMetrics(join(runDir, RUN_FILES.metrics)));
}
