// A run's main curves drawn in the terminal with asciichart (a library made for plain-text line
// charts): the loss, held-out NLL and reward, whichever the run logged.

import asciichart from "asciichart";
import type { MetricSeries } from "./series.js";

/** The metrics drawn in the terminal, when present. */
export const TERMINAL_METRICS: readonly string[] = Object.freeze(["loss", "nll", "reward"]);

/** Text charts (one per main metric, 10 rows high, at most `width` columns). */
export function terminalCharts(series: readonly MetricSeries[], width = 60): string {
  const out: string[] = [];
  for (const s of series) {
    if (!TERMINAL_METRICS.includes(s.metric) || s.points.length < 2) continue;
    const values = s.points.map(([, v]) => v);
    // Longer runs are thinned to `width` columns (every k-th point), keeping the last.
    const k = Math.ceil(values.length / width);
    const shown = values.filter((_, i) => i % k === 0 || i === values.length - 1);
    const first = s.points[0]![0];
    const last = s.points.at(-1)![0];
    out.push(`${s.metric} (steps ${first}-${last})`);
    out.push(asciichart.plot(shown, { height: 10, format: (x: number) => x.toFixed(3).padStart(9) }));
  }
  return out.join("\n");
}
