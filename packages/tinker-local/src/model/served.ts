// Which models a server offers: tinker-local's own models always, plus twins of hosted models:
// the ones named (the --model flag: any model of tinker-ts's tokenizer table), or by default
// DEFAULT_TWINS, those of them whose tokenizer data is installed.
import { MODEL_CATALOG, type ModelSpec } from "./catalog.js";
import { findModelSpec } from "./specs.js";
import { DEFAULT_TWINS, findTwin, installCommand, isTwinInstalled, twinDefinitions } from "./twins.js";

/** A requested model cannot be served; the message says what to install or which names exist. */
export class UnknownModelError extends Error {
  /** Always `"UnknownModelError"`. */
  override name = "UnknownModelError";
}

/**
 * The specs a server offers, in get_server_capabilities order. `twins` undefined: the installed
 * DEFAULT_TWINS. Otherwise exactly those twins (a name of tinker-local's own models is accepted and changes
 * nothing); an unknown name or a twin whose data is missing throws UnknownModelError.
 */
export function servedModels(twins?: readonly string[]): ModelSpec[] {
  const specs = [...MODEL_CATALOG];
  if (twins === undefined) {
    for (const name of DEFAULT_TWINS) {
      const def = findTwin(name);
      if (def !== undefined && isTwinInstalled(def)) specs.push(findModelSpec(name));
    }
    return specs;
  }
  for (const name of twins) {
    if (specs.some((s) => s.name === name)) continue;
    const def = findTwin(name);
    if (def === undefined) {
      throw new UnknownModelError(
        `unknown model "${name}"; twins: ${twinDefinitions()
          .map((t) => t.name)
          .join(", ")} (tinker-local's own models are always served)`,
      );
    }
    if (!isTwinInstalled(def)) {
      throw new UnknownModelError(
        `the twin ${name} needs its tokenizer data, which is not installed; run: ${installCommand(def)}`,
      );
    }
    specs.push(findModelSpec(name));
  }
  return specs;
}
