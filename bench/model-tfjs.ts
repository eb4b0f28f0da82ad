// The measurement behind the model layer's backend choice: the same architecture as
// tinker-local/small (d_model 128, 4 layers, 4 heads, MLP 512, 256 tokens, LoRA rank 8 on every
// projection) as one forward+backward step on tfjs-core with the wasm backend (single thread)
// and the cpu backend.
//   node --import tsx bench/model-tfjs.ts [wasm|cpu]...
//
// tfjs-core ships its gradient registrations only as ES modules with extension-less relative
// imports (dist/register_all_gradients.js -> './gradients/Abs_grad'), which Node's ESM loader
// refuses, and its CommonJS bundle registers no gradients at all. This script therefore installs
// a resolve hook that appends ".js" for files under @tensorflow: fine for a benchmark, not
// something a published package should ask of its users. See docs/models.md.
import { createRequire, register } from "node:module";
import path from "node:path";

const hook = `
import { existsSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";
export async function resolve(spec, ctx, next) {
  if ((spec.startsWith("./") || spec.startsWith("../")) && ctx.parentURL && ctx.parentURL.includes("@tensorflow")) {
    const u = new URL(spec, ctx.parentURL);
    const p = fileURLToPath(u);
    if (existsSync(p + ".js")) return next(u.href + ".js", ctx);
    if (existsSync(p) && statSync(p).isDirectory()) return next(u.href + "/index.js", ctx);
  }
  return next(spec, ctx);
}`;
register(`data:text/javascript,${encodeURIComponent(hook)}`);

type Tf = typeof import("@tensorflow/tfjs-core");
type Tensor = import("@tensorflow/tfjs-core").Tensor;
type Variable = import("@tensorflow/tfjs-core").Variable;
const require = createRequire(path.resolve("packages/tinker-local/package.json"));
const tf: Tf = await import("@tensorflow/tfjs-core");
const coreDir = path.dirname(require.resolve("@tensorflow/tfjs-core/package.json"));
await import(path.join(coreDir, "dist/register_all_gradients.js"));
await import("@tensorflow/tfjs-backend-cpu");
const wasm = await import("@tensorflow/tfjs-backend-wasm");
wasm.setWasmPaths(`${path.dirname(require.resolve("@tensorflow/tfjs-backend-wasm/package.json"))}/dist/`);
wasm.setThreadsCount(1); // threads would make reductions order-dependent

const D = 128;
const L = 4;
const H = 4;
const F = 512;
const V = 259;
const T = 256;
const R = 8;
const hd = D / H;

async function step(backend: string): Promise<{ times: number[]; repeatable: boolean }> {
  await tf.setBackend(backend);
  await tf.ready();
  let seed = 1;
  const rnd = (shape: number[], sc: number) => tf.randomUniform(shape, -sc, sc, "float32", seed++);
  const names = ["q", "k", "v", "o", "up", "down"] as const;
  const shapes: Record<(typeof names)[number], [number, number]> = {
    q: [D, D],
    k: [D, D],
    v: [D, D],
    o: [D, D],
    up: [D, F],
    down: [F, D],
  };
  const base = Array.from({ length: L }, () =>
    Object.fromEntries(names.map((n) => [n, rnd(shapes[n], 0.1)])),
  ) as Record<(typeof names)[number], Tensor>[];
  const lora = Array.from({ length: L }, () =>
    Object.fromEntries(
      names.map((n) => [
        n,
        [tf.variable(rnd([shapes[n][0], R], 0.1)), tf.variable(rnd([R, shapes[n][1]], 0.01))],
      ]),
    ),
  ) as Record<(typeof names)[number], [Variable, Variable]>[];
  const emb = rnd([V, D], 1);
  const pos = rnd([T, D], 0.5);
  const head = rnd([D, V], 0.1);
  const mask = tf.mul(tf.sub(tf.linalg.bandPart(tf.ones([T, T]), -1, 0), 1), 1e9);
  const tokens = tf.tensor1d(
    Array.from({ length: T }, (_, i) => (i * 7) % 256),
    "int32",
  );
  const targets = tf.oneHot(
    tf.tensor1d(
      Array.from({ length: T }, (_, i) => (i * 11) % 256),
      "int32",
    ),
    V,
  );
  const rms = (x: Tensor) => tf.mul(x, tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), 1e-6)));
  const lin = (x: Tensor, l: number, n: (typeof names)[number]) => {
    const [a, b] = (lora[l] as (typeof lora)[number])[n];
    return tf.add(
      tf.matMul(x, (base[l] as (typeof base)[number])[n]),
      tf.mul(tf.matMul(tf.matMul(x, a), b), 4),
    );
  };
  const heads = (x: Tensor) => tf.transpose(tf.reshape(x, [T, H, hd]), [1, 0, 2]);
  const loss = () => {
    let x = tf.add(tf.gather(emb, tokens), pos);
    for (let l = 0; l < L; l++) {
      const h = rms(x);
      const att = tf.softmax(
        tf.add(
          tf.mul(tf.matMul(heads(lin(h, l, "q")), heads(lin(h, l, "k")), false, true), 1 / Math.sqrt(hd)),
          mask,
        ),
      );
      const o = tf.reshape(tf.transpose(tf.matMul(att, heads(lin(h, l, "v"))), [1, 0, 2]), [T, D]);
      x = tf.add(x, lin(o, l, "o"));
      const h2 = rms(x);
      x = tf.add(x, lin(tf.elu(lin(h2, l, "up")), l, "down"));
    }
    return tf.neg(tf.sum(tf.mul(tf.logSoftmax(tf.matMul(rms(x), head)), targets)));
  };
  const vars = lora.flatMap((o) => names.flatMap((n) => o[n]));
  const times: number[] = [];
  const fingerprints = new Set<string>();
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    const { value, grads } = tf.variableGrads(loss as () => import("@tensorflow/tfjs-core").Scalar, vars);
    const parts = [Array.from(value.dataSync())];
    for (const g of Object.values(grads)) parts.push(Array.from(g.dataSync()));
    tf.dispose([value, ...Object.values(grads)]);
    times.push(performance.now() - t0);
    fingerprints.add(JSON.stringify(parts));
  }
  return { times, repeatable: fingerprints.size === 1 };
}

const backends = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ["wasm", "cpu"];
for (const b of backends) {
  const { times, repeatable } = await step(b);
  const steady = times.slice(1).sort((x, y) => x - y);
  console.log(
    `tfjs ${b}: forward+backward 1x${T} tokens, small shape: median ${steady[Math.floor(steady.length / 2)]?.toFixed(0)} ms (all: ${times.map((t) => t.toFixed(0)).join(", ")}); same bits every run: ${repeatable}`,
  );
}
