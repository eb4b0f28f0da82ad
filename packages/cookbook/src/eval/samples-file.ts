// Where a loop keeps the completions of a sampling evaluation: one JSONL file per evaluated step in
// the run folder's `samples/`, so a person can read what the model answered and how it was scored.
// Written whole to a temporary file and renamed, so a resumed run that redoes a step replaces the
// file instead of appending to it.

import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { SamplingEvalResult } from "./sampling.js";

/** The folder of the sampling evaluations' records inside a run folder. */
export const SAMPLES_DIR = "samples";

/** `samples/step-000010.jsonl` of `runDir`. */
export function evalSamplesPath(runDir: string, step: number): string {
  return join(runDir, SAMPLES_DIR, `step-${String(step).padStart(6, "0")}.jsonl`);
}

/** Writes the records of one evaluation, one completion a line. */
export function writeEvalSamples(runDir: string, step: number, result: SamplingEvalResult): string {
  const path = evalSamplesPath(runDir, step);
  mkdirSync(join(runDir, SAMPLES_DIR), { recursive: true });
  writeFileSync(`${path}.tmp`, result.records.map((r) => `${JSON.stringify(r)}\n`).join(""));
  renameSync(`${path}.tmp`, path);
  return path;
}
