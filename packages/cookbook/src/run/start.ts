// How both loops begin: open the run folder, read its resume record (refusing one written with
// other settings), and either hand back a finished run as it is, or a training client (restored
// from the record's state with its Adam moments, or a fresh LoRA run) and the metrics log cut back
// to what the record vouches for. One place, so the two loops cannot drift apart on the part that
// decides whether a restart trains anything twice.

import type { ServiceClient, TrainingClient } from "tinker-ts";
import { MetricsLog, openRunDir, type ResumeRecord, readRecord } from "./run-dir.js";

/** What `resumeOrStart` needs to know about the run. */
export interface RunStartOptions {
  /** Where to train. */
  service: ServiceClient;
  /** The base model of a fresh run. */
  model: string;
  /** LoRA rank of a fresh run. */
  rank: number;
  /** Seed of a fresh run's LoRA initialisation. */
  seed: number;
  /** The run folder. */
  runDir: string;
  /** Which loop this is (`supervised`, `rl`): a folder is not shared between loops. */
  loop: string;
  /** The settings that must not change across a restart. */
  fingerprint: string;
}

/** Paths inside the run folder. */
export interface RunPaths {
  /** The resume record. */
  record: string;
  /** The metrics log. */
  metrics: string;
}

/** A run whose record says it is done: nothing to train. */
export interface FinishedRun<P> {
  /** The final record. */
  finished: ResumeRecord<P>;
  /** Paths inside the run folder. */
  paths: RunPaths;
}

/** A run to train, fresh (`record` undefined) or resumed. */
export interface StartedRun<P> {
  /** Absent: the run is not finished. */
  finished?: undefined;
  /** The record resumed from, if any. */
  record: ResumeRecord<P> | undefined;
  /** The training client: restored from `record.statePath` with the optimizer, or a new LoRA run. */
  training: TrainingClient;
  /** The metrics log, cut back to `record.metricsBytes` (empty for a fresh run). */
  metrics: MetricsLog;
  /** Paths inside the run folder. */
  paths: RunPaths;
}

/** Opens a run: a finished one as it is, else a training client and metrics log to continue. */
export async function resumeOrStart<P>(options: RunStartOptions): Promise<FinishedRun<P> | StartedRun<P>> {
  const paths = openRunDir(options.runDir);
  const record = readRecord<P>(paths.record, options.loop, options.fingerprint);
  if (record?.done) return { finished: record, paths };
  const training = record
    ? await options.service.createTrainingClientFromState(record.statePath, { withOptimizer: true })
    : await options.service.createLoraTrainingClient(options.model, {
        rank: options.rank,
        seed: options.seed,
      });
  // Opened only once the client exists: a refused restore leaves the log as it was.
  const metrics = new MetricsLog(paths.metrics, record?.metricsBytes ?? 0);
  return { record, training, metrics, paths };
}
