// The flags the two cookbook-recipe examples (chat-sft, rl-arithmetic) share, in one table with
// one set of checks, so the two cannot drift apart in names, defaults or messages. Each example
// adds its own flags (steps and data for chat-sft, the environment for rl-arithmetic) next to
// these; a default that differs between them is passed in.

import type { ExampleCli } from "./args.js";

/** Defaults an example may choose differently. */
export interface RecipeFlagDefaults {
  lr: string;
  rank?: string;
  "save-every": string;
}

/** The shared flag table, with the example's defaults. */
export function recipeFlags(defaults: RecipeFlagDefaults) {
  return {
    lr: { type: "string", default: defaults.lr },
    rank: { type: "string", default: defaults.rank ?? "16" },
    seed: { type: "string", default: "0" },
    "save-every": { type: "string", default: defaults["save-every"] },
    renderer: { type: "string" },
    "run-dir": { type: "string" },
  } as const;
}

/** The shared flags as values, checked (a bad one exits 2 with a message, before anything runs). */
export interface RecipeSettings {
  learningRate: number;
  rank: number;
  seed: number;
  saveEvery: number;
  /** Undefined: the model's recommended renderer. */
  renderer: string | undefined;
  /** Undefined: the example's default folder under --data-dir. */
  runDir: string | undefined;
}

/** Checks the shared flags parsed with `recipeFlags(...)`. */
export function recipeSettings(
  flags: {
    lr: string;
    rank: string;
    seed: string;
    "save-every": string;
    renderer?: string;
    "run-dir"?: string;
  },
  cli: ExampleCli,
): RecipeSettings {
  const learningRate = Number(flags.lr);
  if (!(learningRate > 0) || !Number.isFinite(learningRate))
    cli.usage(`--lr must be a positive number, got ${flags.lr}`);
  return {
    learningRate,
    rank: cli.positiveInt(flags.rank, "--rank"),
    seed: cli.nonNegativeInt(flags.seed, "--seed"),
    saveEvery: cli.positiveInt(flags["save-every"], "--save-every"),
    renderer: flags.renderer,
    runDir: flags["run-dir"],
  };
}
