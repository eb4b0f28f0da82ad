// The RL loop. Each iteration: a sampler on the current weights (on-policy), the iteration's
// problems from the group source, rollouts with bounded concurrency, group-centred advantages,
// datums with the sampler's logprobs, one forwardBackward + optimStep. Iterations cannot overlap
// (the next iteration samples from the weights this one produces), so there is no pipelining
// across them; within one, all rollouts are in flight together.
//
// Resume works as in supervised.train: every `saveEvery` iterations saveState, then an atomic
// record with the iteration and the RNG state (which decides the problems and every sampling
// seed). A restart creates a run from that state with the optimizer, and since tinker-local
// samples deterministically from a seed, replays the same episodes and ends with the same weights.

import type { AdamStepParams, Datum, LossFnConfig, SamplingClient, ServiceClient } from "tinker-ts";
import { writeEvalSamples } from "../eval/samples-file.js";
import type { SamplingEval, SamplingEvalResult } from "../eval/sampling.js";
import { type LrSchedule, learningRateAt } from "../hyperparams/schedule.js";
import { RecipeError } from "../run/errors.js";
import { ProgressLine, type ProgressSink } from "../run/progress.js";
import { Rng } from "../run/rng.js";
import { type ResumeRecord, readMetrics, readRecord, writeRecord } from "../run/run-dir.js";
import { resumeOrStart } from "../run/start.js";
import { groupAdvantages } from "./advantages.js";
import { trajectoryDatums } from "./datums.js";
import { entropyBonuses, sampledEntropy } from "./entropy.js";
import { type RolloutOptions, rolloutGroups } from "./rollout.js";
import type { GroupSource, Trajectory } from "./types.js";

/** Settings of `rl.train`. */
export interface RlConfig extends RolloutOptions {
  /** Where to train. */
  service: ServiceClient;
  /** The base model. */
  model: string;
  /** The problems of each iteration. */
  groups: GroupSource;
  /** A name for the environment, part of the run's fingerprint (a restart must use the same). */
  envName: string;
  /** The run folder. */
  runDir: string;
  /** Iterations to run. */
  iterations: number;
  /** Base learning rate. */
  learningRate: number;
  /** Default constant. */
  schedule?: LrSchedule;
  /** Other Adam parameters. */
  adam?: Omit<AdamStepParams, "learningRate">;
  /** `importance_sampling` (default) or `ppo`. */
  lossFn?: "importance_sampling" | "ppo";
  /** PPO's clip thresholds. */
  lossConfig?: LossFnConfig;
  /** Divide advantages by the group's standard deviation. Default false. */
  scaleAdvantagesByStd?: boolean;
  /**
   * Entropy bonus coefficient β (default 0: none). Each sampled token's advantage gets
   * β × (−logprob − the iteration's mean −logprob), from the sampler's logprobs; every episode is
   * then trained on, also those of groups that scored alike (see rl/entropy.ts).
   */
  entropyBonus?: number;
  /** LoRA rank. Default 32. */
  rank?: number;
  /** Seed of the LoRA initialisation, the problems and the samples. Default 0. */
  seed?: number;
  /**
   * Sample and score a prompt set on the current weights every `samplingEvalEvery` iterations
   * (and before the first and after the last): `accuracy` in metrics.jsonl, each completion in
   * `samples/step-NNNNNN.jsonl` of the run folder.
   */
  samplingEvaluator?: SamplingEval;
  /** Default 5. */
  samplingEvalEvery?: number;
  /** Save state and the resume record every this many iterations (and after the last). Default 5. */
  saveEvery?: number;
  /** Where the progress line goes (only a TTY shows it); false for none. */
  progress?: ProgressSink | false;
  /** Called with each metrics row. */
  onMetrics?: (row: RlMetrics) => void;
}

/** One row of `metrics.jsonl`. */
export interface RlMetrics {
  /** Iterations done. */
  step: number;
  /** Mean total reward of the iteration's episodes. */
  reward: number;
  /** Episodes played. */
  episodes: number;
  /** Datums trained on (episodes with a non-zero advantage, split where needed). */
  datums: number;
  /** Mean −logprob of the sampled action tokens: an estimate of the policy's entropy per token. */
  entropy: number;
  /** Mean turns per episode. */
  turns: number;
  /** The learning rate. */
  lr: number;
  /** Environment metrics, averaged over steps (prefixed `env/`), and loss metrics. */
  [key: string]: number;
}

/** What `rl.train` returns. */
export interface RlSummary {
  /** Iterations done in total. */
  iterations: number;
  /** Iterations this process ran. */
  iterationsThisProcess: number;
  /** The iteration the run resumed from. */
  resumedFrom: number;
  /** Mean reward of the first and last five iterations. */
  rewardFirst5: number;
  /** Mean reward of the last five iterations. */
  rewardLast5: number;
  /** The sampling evaluator's accuracy before training (undefined without one). */
  firstAccuracy: number | undefined;
  /** Its accuracy after the last iteration. */
  lastAccuracy: number | undefined;
  /** Final state. */
  statePath: string;
  /** The run folder. */
  runDir: string;
}

interface RlPosition {
  iteration: number;
}

function positiveInt(value: number | undefined, name: string, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v < 1)
    throw new RecipeError(`${name} must be a positive integer, got ${v}`);
  return v;
}

function mean(xs: readonly number[]): number {
  return xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** Per-step environment metrics averaged over all transitions, as `env/<name>`. */
function envMetrics(groups: Trajectory[][]): Record<string, number> {
  const sums = new Map<string, { sum: number; n: number }>();
  for (const t of groups.flat().flatMap((g) => g.transitions))
    for (const [k, v] of Object.entries(t.metrics)) {
      const s = sums.get(k) ?? { sum: 0, n: 0 };
      s.sum += v;
      s.n++;
      sums.set(k, s);
    }
  return Object.fromEntries([...sums].map(([k, s]) => [`env/${k}`, s.sum / s.n]));
}

/** Runs on-policy RL; see the module comment. */
export async function train(config: RlConfig): Promise<RlSummary> {
  const seed = config.seed ?? 0;
  const rank = positiveInt(config.rank, "rank", 32);
  const iterations = positiveInt(config.iterations, "iterations", 1);
  const saveEvery = positiveInt(config.saveEvery, "saveEvery", 5);
  const samplingEvery = positiveInt(config.samplingEvalEvery, "samplingEvalEvery", 5);
  positiveInt(config.maxTokens, "maxTokens", 1);
  const schedule: LrSchedule = config.schedule ?? { kind: "constant" };
  learningRateAt(schedule, config.learningRate, 0, iterations);
  const lossFn = config.lossFn ?? "importance_sampling";
  const entropyBonus = config.entropyBonus ?? 0;
  entropyBonuses([], entropyBonus); // checks the coefficient before anything is sent
  if (lossFn !== "importance_sampling" && lossFn !== "ppo")
    throw new RecipeError(`lossFn must be importance_sampling or ppo, got ${lossFn}`);

  const fingerprint = JSON.stringify({
    model: config.model,
    env: config.envName,
    iterations,
    learningRate: config.learningRate,
    schedule,
    adam: config.adam ?? {},
    lossFn,
    lossConfig: config.lossConfig ?? {},
    scaleAdvantagesByStd: config.scaleAdvantagesByStd ?? false,
    // Only when set, so runs started before the option existed keep their fingerprint.
    ...(entropyBonus !== 0 ? { entropyBonus } : {}),
    rank,
    seed,
    maxTokens: config.maxTokens,
    temperature: config.temperature ?? 1,
    maxTurns: config.maxTurns ?? 16,
    saveEvery,
  });
  const run = await resumeOrStart<RlPosition>({ ...config, rank, seed, loop: "rl", fingerprint });
  if (run.finished) return summarise(run.paths.metrics, run.finished, 0, config.runDir);
  const { record, training, metrics, paths } = run;
  const rng = record ? Rng.fromState(record.rngState) : new Rng(seed);
  const progress = config.progress === false ? undefined : new ProgressLine(config.progress);
  const started = performance.now();
  const resumedFrom = record?.step ?? 0;
  const seconds = () => Number(((performance.now() - started) / 1000).toFixed(3));
  // The evaluation's sampler holds the weights the next iteration samples from: it is reused.
  let sampler: SamplingClient | undefined;
  const evaluate = async (step: number): Promise<SamplingEvalResult | undefined> => {
    if (!config.samplingEvaluator) return undefined;
    sampler ??= await training.saveWeightsAndGetSamplingClient();
    const result = await config.samplingEvaluator.evaluate(sampler);
    writeEvalSamples(config.runDir, step, result);
    return result;
  };
  try {
    if (!record && config.samplingEvaluator) {
      const sampled = (await evaluate(0))!;
      metrics.write({ step: 0, accuracy: sampled.accuracy, unparsed: sampled.unparsed, seconds: seconds() });
    }
    for (let it = resumedFrom; it < iterations; it++) {
      sampler ??= await training.saveWeightsAndGetSamplingClient();
      const groups = await config.groups(it, rng);
      const seeds = groups.map(() => rng.seed());
      const played = await rolloutGroups(groups, seeds, sampler, config);

      const data: Datum[] = [];
      const rewards: number[] = [];
      const actionLogprobs = played.flat().flatMap((t) => t.transitions.map((tr) => tr.logprobs));
      // One row per transition, in the order of played.flat() and its transitions.
      const bonusRows = entropyBonuses(actionLogprobs, entropyBonus);
      let cursor = 0;
      played.forEach((trajectories) => {
        const totals = trajectories.map((t) => t.totalReward);
        rewards.push(...totals);
        const advantages = groupAdvantages(totals, { scaleByStd: config.scaleAdvantagesByStd ?? false });
        trajectories.forEach((t, i) => {
          const bonus = bonusRows.slice(cursor, cursor + t.transitions.length);
          cursor += t.transitions.length;
          const hasBonus = bonus.some((r) => r.some((b) => b !== 0));
          if (advantages[i] !== 0 || hasBonus)
            data.push(...trajectoryDatums(t, advantages[i]!, hasBonus ? bonus : undefined));
        });
      });
      const lr = learningRateAt(schedule, config.learningRate, it, iterations);
      let lossMetrics: Record<string, number> = {};
      if (data.length > 0) {
        const fb = training.forwardBackward(data, lossFn, config.lossConfig);
        const opt = training.optimStep({ ...config.adam, learningRate: lr });
        const [result] = await Promise.all([fb, opt]);
        lossMetrics = Object.fromEntries(Object.entries(result.metrics).map(([k, v]) => [`loss/${k}`, v]));
        sampler = undefined; // the weights moved on
      }
      const last = it + 1 === iterations;
      const sampled = (it + 1) % samplingEvery === 0 || last ? await evaluate(it + 1) : undefined;
      const episodes = played.flat();
      const row: RlMetrics = {
        step: it + 1,
        reward: mean(rewards),
        episodes: episodes.length,
        datums: data.length,
        entropy: sampledEntropy(actionLogprobs),
        turns: mean(episodes.map((t) => t.transitions.length)),
        lr,
        ...envMetrics(played),
        ...lossMetrics,
        ...(sampled ? { accuracy: sampled.accuracy, unparsed: sampled.unparsed } : {}),
        seconds: seconds(),
      };
      metrics.write(row);
      config.onMetrics?.(row);
      progress?.update("rl", it + 1, iterations, { reward: row.reward, accuracy: sampled?.accuracy });

      if ((it + 1) % saveEvery === 0 || last) {
        const { path } = await training.saveState(`iter-${String(it + 1).padStart(6, "0")}`);
        metrics.sync();
        writeRecord(paths.record, {
          version: 1,
          loop: "rl",
          fingerprint,
          step: it + 1,
          statePath: path,
          position: { iteration: it + 1 },
          rngState: rng.state,
          metricsBytes: metrics.bytes,
          done: last,
        } satisfies ResumeRecord<RlPosition>);
      }
    }
    progress?.done();
  } finally {
    metrics.close();
  }
  const final = readRecord<RlPosition>(paths.record, "rl", fingerprint);
  if (!final) throw new RecipeError("the run ended without a resume record");
  return summarise(paths.metrics, final, iterations - resumedFrom, config.runDir, resumedFrom);
}

function summarise(
  metricsPath: string,
  record: ResumeRecord<RlPosition>,
  iterationsThisProcess: number,
  runDir: string,
  resumedFrom = record.step,
): RlSummary {
  const rows = readMetrics(metricsPath);
  const rewards = rows.filter((r) => typeof r.reward === "number").map((r) => r.reward as number);
  const accuracies = rows.filter((r) => typeof r.accuracy === "number").map((r) => r.accuracy as number);
  const window = Math.min(5, rewards.length);
  return {
    iterations: record.step,
    iterationsThisProcess,
    resumedFrom,
    rewardFirst5: mean(rewards.slice(0, window)),
    rewardLast5: mean(rewards.slice(-window)),
    firstAccuracy: accuracies[0],
    lastAccuracy: accuracies.at(-1),
    statePath: record.statePath,
    runDir,
  };
}
