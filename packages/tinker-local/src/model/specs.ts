// Model names to specs: tinker-local's own catalog, then twins of hosted models (built on first use
// and cached, once their tokenizer data is known to be installed).
import { MODEL_CATALOG, type ModelSpec } from "./catalog.js";
import { ModelInputError } from "./errors.js";
import { findTwin, installCommand, isTwinInstalled, twinDefinitions, twinSpec } from "./twins.js";

const twinSpecs = new Map<string, ModelSpec>();

/**
 * The spec of a catalog model or of a twin whose tokenizer data is installed. Which names a server
 * accepts is its own choice (the --model flag); this layer can build any of them.
 */
export function findModelSpec(name: string): ModelSpec {
  const spec = MODEL_CATALOG.find((m) => m.name === name) ?? twinSpecs.get(name);
  if (spec) return spec;
  const twin = findTwin(name);
  if (twin !== undefined) {
    if (!isTwinInstalled(twin)) {
      throw new ModelInputError(
        `${name} is a twin whose tokenizer data is not installed; run: ${installCommand(twin)}`,
      );
    }
    const built = twinSpec(twin);
    twinSpecs.set(name, built);
    return built;
  }
  const known = [...MODEL_CATALOG.map((m) => m.name), ...twinDefinitions().map((t) => t.name)];
  throw new ModelInputError(`unknown base model '${name}'; available: ${known.join(", ")}`);
}
