// Group-centred advantages: each episode's reward minus the mean reward of its group (the same
// problem), optionally divided by the group's standard deviation. A group whose episodes all
// scored the same gets zeros: it says nothing about which action was better.

/** Options of `groupAdvantages`. */
export interface AdvantageOptions {
  /** Divide by the group's (population) standard deviation. Default false. */
  scaleByStd?: boolean;
  /** Added to the standard deviation before dividing. Default 1e-6. */
  epsilon?: number;
}

/** The advantage of each episode of one group, from their total rewards. */
export function groupAdvantages(rewards: readonly number[], options: AdvantageOptions = {}): number[] {
  if (rewards.length === 0) return [];
  // Checked on the rewards, not on the centred values: the mean of equal floats is not always
  // that float (eight times 0.2 averages to 0.20000000000000004), and the residue, divided by a
  // near-zero standard deviation, would train on noise.
  if (rewards.every((r) => r === rewards[0])) return rewards.map(() => 0);
  const mean = rewards.reduce((a, b) => a + b, 0) / rewards.length;
  const centred = rewards.map((r) => r - mean);
  if (!options.scaleByStd) return centred;
  const std = Math.sqrt(centred.reduce((a, c) => a + c * c, 0) / rewards.length);
  if (std === 0) return centred.map(() => 0);
  return centred.map((c) => c / (std + (options.epsilon ?? 1e-6)));
}
