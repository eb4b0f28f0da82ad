/**
 * Bad input to the model layer: an unknown loss, a missing or mis-shaped input, a token outside the
 * vocabulary, a sequence longer than the context, a checkpoint that does not fit the model.
 * The message says what was wrong and what is allowed, so it can be shown to the user as is
 * (the server maps it to a "user" category failure).
 */
export class ModelInputError extends Error {
  /** Always `"ModelInputError"`. */
  override readonly name = "ModelInputError";
}
