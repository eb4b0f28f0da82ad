// One pass of the supervised recipe's streaming dataset over a big JSONL file, in a process of its
// own (bench/recipes.ts runs it), so its resident memory is the dataset's alone: index the file,
// build a shuffled epoch order, then render `READS` records of that order into datums. Prints
// {"records","indexMs","indexMiB","readMs","rssMiB","heapMiB"} as JSON; rssMiB is the peak RSS
// sampled after each stage (Node's own start-up included).
import { ByteLevelTokenizer } from "tinker-ts";
import { getRenderer, supervised } from "tinker-ts-cookbook";

const path = process.argv[2];
const reads = Number(process.argv[3] ?? "20000");
if (!path) throw new Error("usage: recipes-jsonl-child.ts FILE [READS]");
let peak = process.memoryUsage().rss;
const sample = () => {
  peak = Math.max(peak, process.memoryUsage().rss);
};
const t0 = performance.now();
const file = supervised.JsonlFile.open(path);
const indexMs = performance.now() - t0;
sample();
const renderer = getRenderer("role_colon", new ByteLevelTokenizer());
const batches = new supervised.ConversationBatches(file, {
  renderer,
  batchSize: { examples: 64 },
  seed: 1,
  maxLength: 512,
});
const t1 = performance.now();
let position: supervised.DataPosition = { epoch: 0, cursor: 0 };
let examples = 0;
while (examples < reads) {
  const batch = batches.next(position);
  examples += batch.data.length;
  position = batch.next;
  if (examples % 4096 < 64) sample();
}
const readMs = performance.now() - t1;
sample();
console.log(
  JSON.stringify({
    records: file.length,
    indexMs,
    indexMiB: file.indexBytes / 2 ** 20,
    readMs,
    examples,
    rssMiB: peak / 2 ** 20,
    heapMiB: process.memoryUsage().heapUsed / 2 ** 20,
  }),
);
file.close();
