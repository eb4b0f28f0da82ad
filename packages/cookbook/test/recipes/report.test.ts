// The run report: plotRun on a metrics file writes one self-contained HTML file with one SVG chart
// per metric, each with as many points as logged steps (parsed back out of the SVG line), and
// terminal charts of the main curves; no script, nothing fetched.

import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { metricSeries, plotRun, RecipeError } from "../../src/index.js";

const dir = mkdtempSync(join(tmpdir(), "cookbook-report-"));
after(() => rmSync(dir, { recursive: true, force: true }));

test("one chart per metric, one point per logged step", async () => {
  const rows = [
    { step: 0, nll: 3.0, seconds: 0.1 },
    ...Array.from({ length: 9 }, (_, i) => ({
      step: i + 1,
      loss: 4 - i * 0.3,
      lr: 0.01,
      ...(i % 4 === 3 ? { nll: 2.5 - i * 0.1 } : {}),
      seconds: i,
    })),
  ];
  writeFileSync(join(dir, "metrics.jsonl"), `${rows.map((r) => JSON.stringify(r)).join("\n")}\n`);
  const result = await plotRun(dir);
  const html = readFileSync(result.htmlPath, "utf8");

  const figures = [
    ...html.matchAll(/<figure data-metric="([^"]+)" data-points="(\d+)">([\s\S]*?)<\/figure>/g),
  ];
  const charted = figures.map((m) => [m[1], Number(m[2])]);
  assert.deepEqual(charted, [
    ["nll", 3],
    ["loss", 9],
    ["lr", 9],
  ]);
  for (const [, metric, points, body] of figures) {
    assert.equal((body!.match(/<svg/g) ?? []).length, 1, `${metric}: one svg`);
    // The line mark is the one stroked path; its vertices are the points.
    const line = body!.match(/<path d="(M[^"]+)" stroke=/);
    assert.ok(line, `${metric}: a line path`);
    assert.equal(line[1]!.split("L").length, Number(points), `${metric}: vertices`);
  }
  assert.doesNotMatch(html, /<script/i);
  assert.deepEqual(
    [...new Set(html.match(/https?:\/\/[^"\s]+/g))].sort(),
    ["http://www.w3.org/1999/xlink", "http://www.w3.org/2000/svg"],
    "nothing to fetch: only XML namespaces",
  );
  assert.deepEqual(result.charts, [
    { metric: "nll", points: 3 },
    { metric: "loss", points: 9 },
    { metric: "lr", points: 9 },
  ]);
  assert.match(result.text, /^nll \(steps 0-8\)/m);
  assert.match(result.text, /^loss \(steps 1-9\)/m);
  assert.doesNotMatch(result.text, /^lr/m);
});

test("metricSeries leaves out bookkeeping and non-numbers", () => {
  const series = metricSeries([{ step: 1, seconds: 2, epoch: 0, loss: 1, note: "x", bad: Number.NaN }]);
  assert.deepEqual(series, [{ metric: "loss", points: [[1, 1]] }]);
});

test("a folder without metrics is a RecipeError", async () => {
  await assert.rejects(plotRun(join(dir, "empty")), RecipeError);
});
