// The supervised training loop. Per step: the next batch of the conversation file, forwardBackward
// with cross_entropy, optimStep at the schedule's rate. Steps are pipelined: step k+1 is submitted
// before step k's result is awaited (the SDK keeps them in order by seq_id), so the server never
// waits for the client to render and send a batch.
//
// Resume: every `saveEvery` steps the loop drains the pipeline, saves weights and Adam state
// (saveState), then writes the resume record (step, data position, RNG state, metrics length)
// atomically. Restarted with the same settings in the same run folder, it creates a training run
// from that state with the optimizer and continues at the recorded position. Everything after the
// record (steps trained by the killed process) belongs to the killed training run and is not part
// of the resumed weights, so the result equals an uninterrupted run and no batch is in it twice.

import type { AdamStepParams, ServiceClient } from "tinker-ts";
import { NllEvaluator } from "../eval/nll.js";
import { writeEvalSamples } from "../eval/samples-file.js";
import type { SamplingEval, SamplingEvalResult } from "../eval/sampling.js";
import { type LrSchedule, learningRateAt } from "../hyperparams/schedule.js";
import type { Renderer, TrainOn } from "../renderers/types.js";
import { RecipeError } from "../run/errors.js";
import { ProgressLine, type ProgressSink } from "../run/progress.js";
import { type ResumeRecord, readMetrics, readRecord, writeRecord } from "../run/run-dir.js";
import { resumeOrStart } from "../run/start.js";
import { type Batch, type BatchSize, ConversationBatches, type DataPosition } from "./batches.js";
import { JsonlFile } from "./jsonl-file.js";

/** Settings of `supervised.train`. */
export interface SupervisedConfig {
  /** Where to train. */
  service: ServiceClient;
  /** The base model. */
  model: string;
  /** The model's renderer (`getRenderer(name, tokenizer)`). */
  renderer: Renderer;
  /** JSONL file of `{"messages": [...]}` records to train on. */
  trainData: string;
  /** JSONL file of held-out conversations for the NLL evaluation. */
  evalData?: string;
  /** Use only the first this many held-out records. Default 256. */
  evalExamples?: number;
  /** The run folder: resume record and metrics. Same folder + same settings = resume. */
  runDir: string;
  /** Records or tokens per step. */
  batchSize: BatchSize;
  /** Steps to train; default: `epochs` epochs of the file. */
  steps?: number;
  /** Epochs when `steps` is not given. Default 1. */
  epochs?: number;
  /** Base learning rate (see `recommendedLearningRate`). */
  learningRate: number;
  /** Default: linear decay, no warmup. */
  schedule?: LrSchedule;
  /** Other Adam parameters. */
  adam?: Omit<AdamStepParams, "learningRate">;
  /** LoRA rank. Default 32. */
  rank?: number;
  /** Seed of the LoRA initialisation and the shuffles. Default 0. */
  seed?: number;
  /** Cut examples to this many tokens. */
  maxLength?: number;
  /** Which tokens carry loss. Default `all_assistant_messages`. */
  trainOn?: TrainOn;
  /** Shuffle each epoch. Default true. */
  shuffle?: boolean;
  /** Held-out NLL every this many steps (and before the first and after the last). Default 10. */
  evalEvery?: number;
  /**
   * Sample and score a prompt set on the current weights every `samplingEvalEvery` steps (and
   * before the first and after the last): `accuracy` in metrics.jsonl, each completion in
   * `samples/step-NNNNNN.jsonl` of the run folder.
   */
  samplingEvaluator?: SamplingEval;
  /** Default: `evalEvery`. */
  samplingEvalEvery?: number;
  /** Save state and the resume record every this many steps (and after the last). Default 20. */
  saveEvery?: number;
  /** Submit the next step before awaiting the previous one. Default true. */
  pipeline?: boolean;
  /** Where the progress line goes (only a TTY shows it); false for none. Default stderr. */
  progress?: ProgressSink | false;
  /** Called with each metrics row as it is written. */
  onMetrics?: (row: SupervisedMetrics) => void;
}

/** One row of `metrics.jsonl`. */
export interface SupervisedMetrics {
  /** Steps done (0: the evaluation before training). */
  step: number;
  /** Epoch of the step's batch. */
  epoch?: number;
  /** Training loss per trained token, measured before the step's update. */
  loss?: number;
  /** Held-out NLL per trained token after the step. */
  nll?: number;
  /** The sampling evaluator's mean score after the step. */
  accuracy?: number;
  /** Its completions that did not end where a message ends. */
  unparsed?: number;
  /** The step's learning rate. */
  lr?: number;
  /** Examples, tokens, trained tokens, truncated examples, cut tokens, skipped records. */
  examples?: number;
  /** Tokens in the batch. */
  tokens?: number;
  /** Tokens that carried loss. */
  trainedTokens?: number;
  /** Examples cut by maxLength. */
  truncated?: number;
  /** Tokens cut off. */
  cutTokens?: number;
  /** Records skipped (nothing to train on). */
  skipped?: number;
  /** Seconds since this process started the loop. */
  seconds: number;
}

/** What `supervised.train` returns (also read back from the run folder on a finished run). */
export interface SupervisedSummary {
  /** Steps trained in total (all processes). */
  steps: number;
  /** Steps this process trained. */
  stepsThisProcess: number;
  /** The step the run resumed from (0 for a fresh run). */
  resumedFrom: number;
  /** First and last training loss. */
  firstLoss: number | undefined;
  /** Last training loss. */
  lastLoss: number | undefined;
  /** Held-out NLL before training (undefined without evalData). */
  firstNll: number | undefined;
  /** Held-out NLL after the last step. */
  lastNll: number | undefined;
  /** The sampling evaluator's accuracy before training (undefined without one). */
  firstAccuracy: number | undefined;
  /** Its accuracy after the last step. */
  lastAccuracy: number | undefined;
  /** Examples cut by maxLength, and tokens cut, over the whole run. */
  truncated: number;
  /** Tokens cut off over the whole run. */
  cutTokens: number;
  /** `tinker://…/weights/…` of the final state. */
  statePath: string;
  /** `tinker://…/sampler_weights/final`: the final weights for `createSamplingClient`. */
  samplerPath: string | undefined;
  /** The run folder. */
  runDir: string;
}

interface InFlight {
  step: number;
  batch: Batch;
  lr: number;
  result: Promise<{ metrics: Record<string, number> }> | undefined;
  nll: Promise<number> | undefined;
  sampled: Promise<SamplingEvalResult> | undefined;
}

/** A promise that does not count as unhandled while it waits its turn in the pipeline. */
function quiet<T>(p: PromiseLike<T>): Promise<T> {
  const promise = Promise.resolve(p);
  promise.catch(() => {});
  return promise;
}

function positiveInt(value: number | undefined, name: string, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v < 1)
    throw new RecipeError(`${name} must be a positive integer, got ${v}`);
  return v;
}

/** Trains a LoRA adapter on conversations; see the module comment for pipelining and resume. */
export async function train(config: SupervisedConfig): Promise<SupervisedSummary> {
  const seed = config.seed ?? 0;
  const rank = positiveInt(config.rank, "rank", 32);
  const evalEvery = positiveInt(config.evalEvery, "evalEvery", 10);
  const samplingEvery = positiveInt(config.samplingEvalEvery, "samplingEvalEvery", evalEvery);
  const saveEvery = positiveInt(config.saveEvery, "saveEvery", 20);
  const schedule: LrSchedule = config.schedule ?? { kind: "linear" };
  const render = {
    renderer: config.renderer,
    trainOn: config.trainOn ?? "all_assistant_messages",
    ...(config.maxLength !== undefined ? { maxLength: positiveInt(config.maxLength, "maxLength", 1) } : {}),
  } as const;
  const file = JsonlFile.open(config.trainData);
  try {
    const batches = new ConversationBatches(file, {
      ...render,
      batchSize: config.batchSize,
      seed,
      shuffle: config.shuffle ?? true,
    });
    const totalSteps =
      config.steps !== undefined
        ? positiveInt(config.steps, "steps", 1)
        : batches.countSteps(positiveInt(config.epochs, "epochs", 1));
    learningRateAt(schedule, config.learningRate, 0, totalSteps); // checks the schedule before anything is sent
    const evaluator =
      config.evalData === undefined
        ? undefined
        : NllEvaluator.fromJsonl(
            config.evalData,
            render,
            positiveInt(config.evalExamples, "evalExamples", 256),
          );

    // What must not change between a run and its restart: anything that changes the weights.
    const fingerprint = JSON.stringify({
      model: config.model,
      renderer: config.renderer.name,
      trainData: { path: config.trainData, bytes: file.bytes, records: file.length },
      batchSize: config.batchSize,
      totalSteps,
      learningRate: config.learningRate,
      schedule,
      adam: config.adam ?? {},
      rank,
      seed,
      maxLength: config.maxLength ?? null,
      trainOn: render.trainOn,
      shuffle: config.shuffle ?? true,
      saveEvery,
    });
    const run = await resumeOrStart<DataPosition>({ ...config, rank, seed, loop: "supervised", fingerprint });
    if (run.finished) return summarise(run.paths.metrics, run.finished, 0, config.runDir);
    const { record, training, metrics, paths } = run;
    const progress = config.progress === false ? undefined : new ProgressLine(config.progress);
    const started = performance.now();
    const seconds = () => Number(((performance.now() - started) / 1000).toFixed(3));
    const log = (row: SupervisedMetrics) => {
      metrics.write(row as unknown as Record<string, unknown>);
      config.onMetrics?.(row);
    };

    try {
      const resumedFrom = record?.step ?? 0;
      let step = resumedFrom;
      let position: DataPosition = record?.position ?? { epoch: 0, cursor: 0 };
      let statePath = record?.statePath ?? "";
      // The sampler is saved in the client's order, so it holds exactly the weights of the steps
      // submitted before it.
      const sample = (at: number) => {
        const sampler = config.samplingEvaluator;
        if (!sampler) return undefined;
        return quiet(
          training.saveWeightsAndGetSamplingClient().then(async (client) => {
            const result = await sampler.evaluate(client);
            writeEvalSamples(config.runDir, at, result);
            return result;
          }),
        );
      };
      const accuracyOf = (r: SamplingEvalResult | undefined) =>
        r ? { accuracy: r.accuracy, unparsed: r.unparsed } : {};
      if (!record && (evaluator || config.samplingEvaluator)) {
        const nll = evaluator ? await evaluator.evaluate(training) : undefined;
        const sampled = await sample(0);
        log({ step: 0, ...(nll !== undefined ? { nll } : {}), ...accuracyOf(sampled), seconds: seconds() });
      }

      const finish = async (f: InFlight) => {
        const r = f.result ? await f.result : undefined;
        const nll = f.nll ? await f.nll : undefined;
        const sampled = f.sampled ? await f.sampled : undefined;
        const s = f.batch.stats;
        const loss = r ? (r.metrics["loss:sum"] ?? Number.NaN) / s.trainedTokens : undefined;
        log({
          step: f.step,
          epoch: f.batch.next.epoch,
          loss,
          ...(nll !== undefined ? { nll } : {}),
          ...accuracyOf(sampled),
          lr: f.lr,
          ...s,
          seconds: seconds(),
        });
        progress?.update("train", f.step, totalSteps, { loss, nll, accuracy: sampled?.accuracy });
      };

      let previous: InFlight | undefined;
      while (step < totalSteps) {
        const batch = batches.next(position);
        const lr = learningRateAt(schedule, config.learningRate, step, totalSteps);
        let result: InFlight["result"];
        if (batch.data.length > 0) {
          const fb = quiet(training.forwardBackward(batch.data, "cross_entropy"));
          const opt = quiet(training.optimStep({ ...config.adam, learningRate: lr }));
          result = quiet(Promise.all([fb, opt]).then(([r]) => r));
        }
        step++;
        position = batch.next;
        const last = step === totalSteps;
        const nll =
          evaluator && (step % evalEvery === 0 || last) ? quiet(evaluator.evaluate(training)) : undefined;
        const sampled = step % samplingEvery === 0 || last ? sample(step) : undefined;
        const current: InFlight = { step, batch, lr, result, nll, sampled };
        const save = step % saveEvery === 0 || last;
        if (config.pipeline ?? true) {
          if (previous) await finish(previous);
          previous = current;
        } else {
          await finish(current);
        }
        if (save) {
          // Submitted right after this step's optimStep, so it holds exactly `step` steps.
          const saved = quiet(training.saveState(`step-${String(step).padStart(6, "0")}`));
          const sampler = last ? quiet(training.saveWeightsForSampler("final")) : undefined;
          if (previous) await finish(previous);
          previous = undefined;
          statePath = (await saved).path;
          const samplerPath = sampler ? (await sampler).path : undefined;
          metrics.sync();
          writeRecord(paths.record, {
            version: 1,
            loop: "supervised",
            fingerprint,
            step,
            statePath,
            position,
            rngState: seed >>> 0, // the shuffles are a pure function of (seed, epoch): nothing else to keep
            metricsBytes: metrics.bytes,
            done: last,
            ...(samplerPath !== undefined ? { samplerPath } : {}),
          } satisfies ResumeRecord<DataPosition>);
        }
      }
      progress?.done();
      const final = readRecord<DataPosition>(paths.record, "supervised", fingerprint);
      if (!final) throw new RecipeError("the run ended without a resume record");
      return summarise(paths.metrics, final, step - resumedFrom, config.runDir, resumedFrom);
    } finally {
      metrics.close();
    }
  } finally {
    file.close();
  }
}

function summarise(
  metricsPath: string,
  record: ResumeRecord<DataPosition>,
  stepsThisProcess: number,
  runDir: string,
  resumedFrom = record.step,
): SupervisedSummary {
  const rows = readMetrics(metricsPath) as unknown as SupervisedMetrics[];
  const losses = rows.filter((r) => typeof r.loss === "number").map((r) => r.loss as number);
  const nlls = rows.filter((r) => typeof r.nll === "number").map((r) => r.nll as number);
  const accuracies = rows.filter((r) => typeof r.accuracy === "number").map((r) => r.accuracy as number);
  return {
    steps: record.step,
    stepsThisProcess,
    resumedFrom,
    firstLoss: losses[0],
    lastLoss: losses.at(-1),
    firstNll: nlls[0],
    lastNll: nlls.at(-1),
    firstAccuracy: accuracies[0],
    lastAccuracy: accuracies.at(-1),
    truncated: rows.reduce((a, r) => a + (r.truncated ?? 0), 0),
    cutTokens: rows.reduce((a, r) => a + (r.cutTokens ?? 0), 0),
    statePath: record.statePath,
    samplerPath: record.samplerPath,
    runDir,
  };
}
