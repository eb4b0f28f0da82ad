// Runs the benchmarks, prints their tables, and rewrites docs/benchmarks.md.
//   npm run bench [-- name... ] [-- --no-write] [-- --list]
//   node --conditions=tinker-source --import tsx bench/run.ts [name...] [--no-write] [--list]
// Benchmarks run one after another in this process (the memory one forks its own server), in the
// order below, so they do not compete with each other for the 2 cores.
import { join } from "node:path";
import { type Benchmark, type BenchResult, REPO_ROOT, resultsTable } from "./lib.js";
import {
  existingSections,
  loadAverage,
  machineFacts,
  readDoc,
  renderDoc,
  type SectionRun,
  writeDoc,
} from "./report.js";

/** Every benchmark module, in run order. Add new ones here. */
const MODULES: readonly (() => Promise<Benchmark>)[] = [
  () => import("./model-step.js"),
  () => import("./kernels.js"),
  () => import("./twins.js"),
  () => import("./zstd.js"),
  () => import("./codec.js"),
  () => import("./http.js"),
  () => import("./transport.js"),
  () => import("./engine.js"),
  () => import("./memory.js"),
  () => import("./tokenizers.js"),
  () => import("./recipes.js"),
];

/** A benchmark that takes longer than this gets a warning: runs are meant to stay short. */
const BUDGET_SECONDS = 60;
const DOC_PATH = join(REPO_ROOT, "docs", "benchmarks.md");

function commandLine(args: readonly string[]): string {
  if (process.env.npm_lifecycle_event === "bench") {
    return `npm run bench${args.length > 0 ? ` -- ${args.join(" ")}` : ""}`;
  }
  return ["node", ...process.execArgv, "bench/run.ts", ...args].join(" ");
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const write = !args.includes("--no-write");
  const unknownFlags = args.filter((a) => a.startsWith("-") && a !== "--no-write" && a !== "--list");
  const all: Benchmark[] = [];
  for (const load of MODULES) {
    const mod = await load();
    all.push({ name: mod.name, description: mod.description, run: mod.run });
  }
  if (args.includes("--list")) {
    for (const b of all) console.log(`${b.name.padEnd(12)} ${b.description}`);
    return 0;
  }
  const names = args.filter((a) => !a.startsWith("-"));
  const unknown = names.filter((n) => !all.some((b) => b.name === n));
  if (unknownFlags.length > 0 || unknown.length > 0) {
    console.error(
      `unknown ${[...unknownFlags, ...unknown].join(", ")}; benchmarks: ${all.map((b) => b.name).join(", ")}; flags: --no-write, --list`,
    );
    return 2;
  }
  const selected = names.length === 0 ? all : all.filter((b) => names.includes(b.name));

  const machine = machineFacts();
  const startedAt = new Date();
  const loadBefore = loadAverage();
  console.log(
    `Node ${machine.node}, ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB.toFixed(1)} GiB; load average ${loadBefore}\n`,
  );
  const t0 = performance.now();
  const sections: SectionRun[] = [];
  const failed: string[] = [];
  for (const bench of selected) {
    const sectionStart = new Date();
    const sectionLoad = loadAverage();
    const s0 = performance.now();
    let results: BenchResult[];
    try {
      results = await bench.run();
    } catch (error) {
      console.error(`${bench.name} failed: ${(error as Error).stack ?? error}`);
      failed.push(bench.name);
      continue;
    }
    const seconds = (performance.now() - s0) / 1000;
    console.log(`## ${bench.name} (${seconds.toFixed(1)} s)\n\n${resultsTable(results)}\n`);
    if (seconds > BUDGET_SECONDS) {
      console.warn(
        `warning: ${bench.name} took ${seconds.toFixed(0)} s, over the ${BUDGET_SECONDS} s budget`,
      );
    }
    sections.push({
      name: bench.name,
      description: bench.description,
      results,
      startedAt: sectionStart,
      seconds,
      loadBefore: sectionLoad,
      loadAfter: loadAverage(),
    });
  }

  if (write && sections.length > 0) {
    const doc = renderDoc(
      {
        command: commandLine(args),
        startedAt,
        seconds: (performance.now() - t0) / 1000,
        machine,
        loadBefore,
        loadAfter: loadAverage(),
        sections,
        failed,
      },
      all,
      existingSections(readDoc(DOC_PATH)),
    );
    writeDoc(DOC_PATH, doc);
    console.log(`wrote ${DOC_PATH}`);
  }
  if (failed.length > 0) console.error(`failed: ${failed.join(", ")}`);
  return failed.length > 0 ? 1 : 0;
}

process.exitCode = await main();
