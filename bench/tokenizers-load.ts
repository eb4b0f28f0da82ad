// One cold load of a hosted model's tokenizer, in a process of its own (bench/tokenizers.ts runs
// it): prints {"ms": load time, "rssMiB": resident memory added} as JSON. The time runs from
// before getTokenizer to its return, so Node's own start-up is not in it.
import { getTokenizer } from "tinker-ts";

const model = process.argv[2];
if (!model) throw new Error("usage: tokenizers-load.ts MODEL");
const rss0 = process.memoryUsage().rss;
const t0 = performance.now();
const tok = await getTokenizer(model);
const ms = performance.now() - t0;
tok.encode("warm");
console.log(JSON.stringify({ ms, rssMiB: (process.memoryUsage().rss - rss0) / 2 ** 20 }));
