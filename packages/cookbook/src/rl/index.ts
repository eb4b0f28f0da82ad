// The RL recipe: environments, rollouts, advantages, datums and the loop (`rl.train`).

export { type AdvantageOptions, groupAdvantages } from "./advantages.js";
export { mapLimit } from "./concurrency.js";
export { trajectoryDatums, trajectorySequences } from "./datums.js";
export { entropyBonuses, sampledEntropy } from "./entropy.js";
export {
  ArithmeticEnv,
  type ArithmeticOptions,
  arithmeticEvaluator,
  arithmeticGroups,
  arithmeticReward,
} from "./envs/arithmetic.js";
export { GuessingEnv, type GuessingOptions, guessingGroups } from "./envs/guessing.js";
export { type RolloutOptions, rollout, rolloutGroups } from "./rollout.js";
export { type RlConfig, type RlMetrics, type RlSummary, train } from "./train.js";
export type {
  Env,
  EnvGroupBuilder,
  GroupSource,
  Observation,
  StepResult,
  Trajectory,
  Transition,
} from "./types.js";
