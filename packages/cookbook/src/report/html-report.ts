// A run's report as one self-contained HTML file: one SVG line chart per metric, rendered on the
// server by Vega (no browser, no network, no script in the page: the SVG is inline). Each chart's
// <figure> names its metric and point count, for tools and tests.

import { parse, View } from "vega";
import type { MetricSeries } from "./series.js";

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A Vega spec for one line chart of `series`. */
function lineSpec(series: MetricSeries): object {
  return {
    $schema: "https://vega.github.io/schema/vega/v5.json",
    width: 560,
    height: 220,
    padding: 8,
    data: [{ name: "points", values: series.points.map(([step, value]) => ({ step, value })) }],
    scales: [
      { name: "x", type: "linear", domain: { data: "points", field: "step" }, range: "width", zero: false },
      {
        name: "y",
        type: "linear",
        domain: { data: "points", field: "value" },
        range: "height",
        nice: true,
        zero: false,
      },
    ],
    axes: [
      { orient: "bottom", scale: "x", title: "step" },
      { orient: "left", scale: "y", title: series.metric },
    ],
    marks: [
      {
        type: "line",
        from: { data: "points" },
        encode: {
          enter: {
            x: { scale: "x", field: "step" },
            y: { scale: "y", field: "value" },
            stroke: { value: "#2f6db5" },
            strokeWidth: { value: 2 },
          },
        },
      },
      {
        type: "symbol",
        from: { data: "points" },
        encode: {
          enter: {
            x: { scale: "x", field: "step" },
            y: { scale: "y", field: "value" },
            size: { value: 16 },
            fill: { value: "#2f6db5" },
          },
        },
      },
    ],
  };
}

/** The SVG of one metric's chart. */
export async function chartSvg(series: MetricSeries): Promise<string> {
  const view = new View(parse(lineSpec(series) as never), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** The whole report: a title and one figure per series. */
export async function htmlReport(title: string, series: readonly MetricSeries[]): Promise<string> {
  const figures: string[] = [];
  for (const s of series) {
    const last = s.points.at(-1)?.[1];
    figures.push(
      `<figure data-metric="${escapeHtml(s.metric)}" data-points="${s.points.length}">\n` +
        `<figcaption>${escapeHtml(s.metric)}: ${s.points.length} points, last ${last === undefined ? "-" : last.toPrecision(5)}</figcaption>\n` +
        `${await chartSvg(s)}\n</figure>`,
    );
  }
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;color:#222}figure{margin:0 0 2rem}figcaption{font-weight:600;margin-bottom:.5rem}</style>
</head><body>
<h1>${escapeHtml(title)}</h1>
${figures.join("\n")}
</body></html>
`;
}
