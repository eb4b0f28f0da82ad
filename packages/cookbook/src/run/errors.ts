// The one error type of the recipes (schedules, datasets, loops): bad configuration or data that a
// person has to fix, raised before anything is sent to the server when the recipe can tell.

/** A recipe was given something it cannot use; the message says what and how to fix it. */
export class RecipeError extends Error {
  /** Always `"RecipeError"`, so a caught error can be told apart by name as well as by class. */
  override readonly name = "RecipeError";
}
