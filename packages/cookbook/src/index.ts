// tinker-ts-cookbook: chat renderers, the model registry and helpers for training hosted models
// with tinker-ts. Public exports only.

export { type DatumOptions, datumFromExample } from "./datum.js";
export { RendererError } from "./errors.js";
export { NllEvaluator } from "./eval/nll.js";
export { evalSamplesPath, SAMPLES_DIR, writeEvalSamples } from "./eval/samples-file.js";
export {
  type Completion,
  type SamplingEval,
  type SamplingEvalExample,
  type SamplingEvalOptions,
  type SamplingEvalRecord,
  type SamplingEvalResult,
  SamplingEvaluator,
  type Scorer,
} from "./eval/sampling.js";
export {
  HIDDEN_SIZES,
  LORA_LR_FACTOR,
  LORA_RANK_GUIDANCE,
  LR_SIZE_EXPONENTS,
  REFERENCE_FULL_FINETUNE_LR,
  type RecommendedLrOptions,
  recommendedLearningRate,
} from "./hyperparams/learning-rate.js";
export {
  LR_SCHEDULE_KINDS,
  type LrSchedule,
  type LrScheduleKind,
  learningRateAt,
  lrMultiplier,
} from "./hyperparams/schedule.js";
export { pythonJson } from "./json.js";
export {
  type ContentPart,
  contentParts,
  hasThinking,
  type Message,
  type Role,
  type TextPart,
  type ThinkingPart,
  type ToolCall,
  type ToolSpec,
  textOf,
  thinkingOf,
  type UnparsedToolCall,
} from "./messages.js";
export { getModelInfo, listModels, type ModelInfo, recommendedRenderer } from "./model-info.js";
export { MessageRenderer, type RenderContext, type RenderedMessage } from "./renderers/base.js";
export { DeepSeekV3Renderer } from "./renderers/deepseek-v3.js";
export { type GptOssOptions, GptOssRenderer, type ReasoningEffort } from "./renderers/gpt-oss.js";
export { Llama3Renderer } from "./renderers/llama3.js";
export { type Qwen3Options, Qwen3Renderer, type Qwen3Style } from "./renderers/qwen3.js";
export { getRenderer, type RendererOptions, registerRenderer, rendererNames } from "./renderers/registry.js";
export { RoleColonRenderer } from "./renderers/role-colon.js";
export {
  type GenerationPromptOptions,
  type ParsedResponse,
  type Renderer,
  type SupervisedExample,
  type SupervisedExampleOptions,
  type Termination,
  TRAIN_ON_VALUES,
  type TrainOn,
} from "./renderers/types.js";
export { chartSvg, htmlReport } from "./report/html-report.js";
export { type PlotResult, plotRun } from "./report/plot.js";
export { type MetricSeries, metricSeries, runSeries } from "./report/series.js";
export { TERMINAL_METRICS, terminalCharts } from "./report/terminal-chart.js";
/** The RL recipe: `rl.train({...})`, environments, rollouts, advantages and datums. */
export * as rl from "./rl/index.js";
export { RecipeError } from "./run/errors.js";
export { ProgressLine, type ProgressSink } from "./run/progress.js";
export { mixSeeds, Rng } from "./run/rng.js";
export {
  MetricsLog,
  type ResumeRecord,
  RUN_FILES,
  readMetrics,
  readRecord,
  writeRecord,
} from "./run/run-dir.js";
export {
  type FinishedRun,
  type RunPaths,
  type RunStartOptions,
  resumeOrStart,
  type StartedRun,
} from "./run/start.js";
/** The supervised recipe: `supervised.train({...})`, conversation files and batching. */
export * as supervised from "./supervised/index.js";
export { buildSupervisedExamples, type SupervisedExamplesOptions } from "./supervised.js";
