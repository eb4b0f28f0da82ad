// Writes docs/benchmarks.md. The whole file is generated here: the fixed prose below, a "last run"
// block, and one section per benchmark between markers. A run of only some benchmarks keeps the
// other sections as they were (each section carries its own date, command, machine and load), so
// `npm run bench -- zstd` does not wipe the model numbers.
import { readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import type { BenchResult } from "./lib.js";
import { resultsTable } from "./lib.js";

export interface MachineFacts {
  node: string;
  platform: string;
  cpu: string;
  cores: number;
  memoryGiB: number;
}

export function machineFacts(): MachineFacts {
  const list = cpus();
  return {
    node: process.version,
    platform: `${process.platform}/${process.arch}`,
    cpu: list[0]?.model.trim() ?? "unknown",
    cores: list.length,
    memoryGiB: totalmem() / 1024 ** 3,
  };
}

export const loadAverage = (): string =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(" / ");

export interface SectionRun {
  name: string;
  description: string;
  results: BenchResult[];
  startedAt: Date;
  seconds: number;
  loadBefore: string;
  loadAfter: string;
}

export interface RunInfo {
  command: string;
  startedAt: Date;
  seconds: number;
  machine: MachineFacts;
  loadBefore: string;
  loadAfter: string;
  sections: SectionRun[];
  failed: string[];
}

/** What to read from each table; kept free of numbers so it stays true from run to run. */
const READING_NOTES: Record<string, string> = {
  "model-step": [
    "Pure CPU work in one thread. `tiny` is what the tests and the HTTP benchmarks use; `small` is the",
    "larger of the two models. A forward-only call costs roughly a third to a half of forward_backward;",
    "optim_step is negligible next to either.",
  ].join("\n"),
  zstd: [
    "@bokuweb/zstd-wasm is the SDK's codec (compress and decompress), fzstd the pure-JS decoder",
    "tinker-local uses for request bodies. `tinker-ts/wire zstdDecompress` is the SDK's call: the same",
    "wasm decoder after a walk over the frame headers that bounds the output size. The zstd CLI row",
    "includes starting a process and is only a reference for ratio and speed. `bokuweb decompress`",
    "and `zstdDecompress` run the same decoder; where they differ, that is warm-up order and load.",
  ].join("\n"),
  codec: [
    "Every timed call starts after a full GC: each encode allocates a fresh 16.8 MB buffer, and",
    "without it a row paid for the garbage of the rows before it. The typed-array ratio is the median",
    "of nine rounds that time both inputs in alternating order. The direct rows are the SDK's path;",
    "the protobuf-es rows are the reference the property tests hold the direct codec to.",
  ].join("\n"),
  http: [
    "The server runs in the benchmark's process, so client and server share one event loop (and the",
    "2 cores with anything else on the machine). The round trip minus the model-only row is what",
    "HTTP, the protobuf codecs, the scheduler and the long poll add to a training step.",
  ].join("\n"),
  transport: [
    "tinker-local/tiny runs in a process of its own and every client in another, on plain node against",
    "the built SDK (no tsx in them). The bare client sends the SDK's requests over node:http with one",
    "keep-alive Agent and decodes with the same codecs, and nothing else: the SDK's overhead is its",
    "row minus the bare row. Client CPU per call (user + system of the client process) is the least",
    "noisy figure on a loaded machine. The sequential and pipelined rows run every client in one",
    "process, interleaved round by round; each 1,000-sample burst runs in a fresh process, so its",
    "peak RSS is that client's alone. The server queues instead of answering 429 during the burst.",
  ].join("\n"),
  memory: [
    "Each reading is taken in the server process after two forced collections. Model weights,",
    "gradients and Adam moments are typed arrays, so they show under arrayBuffers, not heapUsed;",
    "unload_model gives them back. RSS grows during training although heapUsed and arrayBuffers",
    "hardly move: the per-step activations and gradients are freed, but V8 and the allocator keep the",
    "pages, so RSS does not come back down after unload either.",
    "The idle RSS includes tsx, which compiles the TypeScript sources at start-up; a built `dist/`",
    "server starts smaller.",
  ].join("\n"),
};

const INTRO = `# Benchmarks

Speed and memory are measured here, never in timed tests. Everything lives in \`bench/\`:

\`\`\`sh
npm run bench                   # every benchmark; rewrites this file
npm run bench -- zstd http      # only these; rewrites only their sections
npm run bench -- --no-write     # print the tables, leave this file alone
npm run bench -- --list         # names and descriptions
\`\`\`

Each benchmark is a module in \`bench/\` exporting \`name\`, \`description\` and
\`run(): Promise<BenchResult[]>\` (rows of \`{metric, value, unit, notes?}\`), listed in
\`bench/run.ts\`. A module can also be run on its own
(\`node --conditions=tinker-source --import tsx bench/zstd.ts\`), which prints its table only.
Runs are bounded (each benchmark well under a minute on 2 cores) and self-contained: servers are
started on 127.0.0.1 with port 0 and nothing else is contacted.

The numbers come from a shared 2-core machine on which other work (test suites) may be running, so
single values can vary by ±50 % between runs; compare rows within one run, and check the load
average recorded with each section. **This file is generated by \`bench/run.ts\`** (the prose is in
\`bench/report.ts\`); edits made here by hand are lost on the next run.
`;

const HISTORY = `## History

### tfjs, measured 2026-11-23 (removed)

The design first suggested \`@tensorflow/tfjs-core\` with the wasm backend for the models. A one-off
benchmark (\`bench/model-tfjs.ts\`, since deleted together with the tfjs dependencies) timed the
architecture of \`tinker-local/small\` (d_model 128, 4 layers, 4 heads, MLP 512, 256 tokens, LoRA
rank 8 on every projection) as one forward+backward step: about 350–750 ms on tfjs-wasm
(single-threaded, for determinism) and 2–4.5 s on tfjs's cpu backend, against about 350–450 ms for
the hand-written float64 implementation, on the same shared 2-core machine. Speed was therefore not
a reason to take tfjs, and its ES modules cannot be loaded by Node without a custom resolve hook; see
[models.md, "Why not tfjs"](models.md#why-not-tfjs) for the full reasons. The current model timings
are in the model-step section above.
`;

const startMarker = (name: string) => `<!-- bench:${name} -->`;
const endMarker = (name: string) => `<!-- /bench:${name} -->`;

/** Sections (markers included) found in an earlier version of the doc, by benchmark name. */
export function existingSections(doc: string): Map<string, string> {
  const found = new Map<string, string>();
  for (const match of doc.matchAll(/<!-- bench:([\w-]+) -->[\s\S]*?<!-- \/bench:\1 -->/g)) {
    found.set(match[1]!, match[0]);
  }
  return found;
}

function stamp(date: Date): string {
  return `${date.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

function machineLine(m: MachineFacts): string {
  return `Node ${m.node}, ${m.platform}, ${m.cpu} (${m.cores} cores), ${m.memoryGiB.toFixed(1)} GiB`;
}

export function renderSection(run: SectionRun, info: RunInfo): string {
  return [
    startMarker(run.name),
    "",
    `_Measured ${stamp(run.startedAt)} with \`${info.command}\` on ${machineLine(info.machine)}; ` +
      `load average (1 / 5 / 15 min) ${run.loadBefore} before, ${run.loadAfter} after; ` +
      `took ${run.seconds.toFixed(1)} s._`,
    "",
    resultsTable(run.results),
    "",
    endMarker(run.name),
  ].join("\n");
}

function lastRun(info: RunInfo): string {
  const m = info.machine;
  const lines = [
    "## Last run",
    "",
    `- Date: ${stamp(info.startedAt)}`,
    `- Command: \`${info.command}\``,
    `- Node ${m.node} on ${m.platform}`,
    `- CPU: ${m.cpu}, ${m.cores} cores (os.cpus()); memory ${m.memoryGiB.toFixed(1)} GiB`,
    `- Load average (1 / 5 / 15 min): ${info.loadBefore} at start, ${info.loadAfter} at the end`,
    `- Benchmarks: ${info.sections.map((s) => `${s.name} (${s.seconds.toFixed(1)} s)`).join(", ") || "none"}` +
      `; total ${info.seconds.toFixed(1)} s`,
  ];
  if (info.failed.length > 0) {
    lines.push(`- Failed, sections kept from the previous run: ${info.failed.join(", ")}`);
  }
  return lines.join("\n");
}

/** The whole doc: fresh sections for this run, earlier ones for benchmarks not run. */
export function renderDoc(
  info: RunInfo,
  all: readonly { name: string; description: string }[],
  previous: Map<string, string>,
): string {
  const fresh = new Map(info.sections.map((s) => [s.name, renderSection(s, info)]));
  const parts = [INTRO.trimEnd(), lastRun(info)];
  for (const bench of all) {
    const body = fresh.get(bench.name) ?? previous.get(bench.name) ?? "_Not run yet._";
    const notes = READING_NOTES[bench.name];
    parts.push(
      [`## ${bench.name}`, "", bench.description, ...(notes ? ["", notes] : []), "", body].join("\n"),
    );
  }
  parts.push(HISTORY);
  return `${parts.join("\n\n").trimEnd()}\n`;
}

export function readDoc(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

export function writeDoc(path: string, text: string): void {
  writeFileSync(path, text);
}
