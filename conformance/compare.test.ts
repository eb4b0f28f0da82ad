// The official Python SDK and tinker-ts against one tinker-local, bit for bit.
//
// Both SDKs share nothing but the server: tinker-ts has its own codec, the official SDK its own
// (pydantic + protobuf + numpy). The same plan (seeds, data, hyper-parameters) goes through each;
// every observable result must be identical: losses, per-token logprobs, metrics, sampled tokens and
// their logprobs, prompt logprobs, a restore from saved state; and the server's own heartbeat records
// show both sessions kept alive the same way. Run by conformance/run.mjs after setup.sh has prepared
// the official SDK (it passes TINKER_PY_SRC and PYSHIM_DIR); there is no skipping without them.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { type LocalServer, startServer } from "tinker-local";
import { Datum, type ForwardBackwardResult, ModelInput, ServiceClient, TensorData } from "tinker-ts";

const API_KEY = "tml-local-dev";
// A window both sessions spend idle, in which both SDKs' 10 s heartbeats must reach the server.
const HEARTBEAT_WINDOW_MS = 21_000;

type Tensor = { data: number[]; dtype: "int64" | "float32" };
type DatumSpec = { tokens: number[]; inputs: Record<string, Tensor> };

function ce(tokens: number[], weights?: number[]): DatumSpec {
  return {
    tokens: tokens.slice(0, -1),
    inputs: {
      target_tokens: { data: tokens.slice(1), dtype: "int64" },
      weights: { data: weights ?? tokens.slice(1).map(() => 1), dtype: "float32" },
    },
  };
}

function rl(tokens: number[], logprobs: number[], advantages: number[]): DatumSpec {
  return {
    tokens: tokens.slice(0, -1),
    inputs: {
      target_tokens: { data: tokens.slice(1), dtype: "int64" },
      logprobs: { data: logprobs, dtype: "float32" },
      advantages: { data: advantages, dtype: "float32" },
    },
  };
}

const bytes = (text: string) => [...Buffer.from(text, "utf8")];

// Every float here is exactly representable in float32, so neither side rounds differently.
const PLAN = {
  base_model: "tinker-local/tiny",
  rank: 4,
  seed: 1234,
  adam: { learning_rate: 0.01, beta1: 0.9, beta2: 0.95, eps: 1e-8, weight_decay: 0, grad_clip_norm: 0 },
  steps: [
    { loss_fn: "cross_entropy", data: [ce(bytes("maple=MAPLE\n")), ce(bytes("cedar=CEDAR\n"))] },
    { loss_fn: "cross_entropy", data: [ce(bytes("birch=BIRCH\n"), [0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1])] },
    {
      loss_fn: "importance_sampling",
      data: [rl(bytes("oak=OAK\n"), [-1.5, -2, -0.75, -3, -1, -0.5, -2.25], [1, 1, 0.5, 0.5, -0.25, 1, 1])],
    },
    { loss_fn: "cross_entropy", data: [ce(bytes("maple=MAPLE\n"))] },
  ],
  eval: [ce(bytes("aspen=ASPEN\n")), ce(bytes("maple=MAPLE\n"))],
  state_name: "compare-state",
  sampler_name: "compare-sampler",
  prompt: bytes("maple="),
  num_samples: 3,
  sampling: { max_tokens: 12, temperature: 1, seed: 7, top_k: -1 },
};

function toDatum(spec: DatumSpec): Datum {
  const lossFnInputs: Record<string, TensorData> = {};
  for (const [name, t] of Object.entries(spec.inputs))
    lossFnInputs[name] = TensorData.from(t.data, { dtype: t.dtype });
  return Datum.create({ modelInput: ModelInput.fromInts(spec.tokens), lossFnInputs });
}

function fbView(out: ForwardBackwardResult) {
  return {
    metrics: { ...out.metrics },
    outputs: out.lossFnOutputs.map((o) =>
      Object.fromEntries(
        Object.keys(o)
          .sort()
          .map((name) => [name, [...o[name]!.data]]),
      ),
    ),
  };
}

/** What tinker-ts observes for the plan; the same shape official_ops.py writes. */
async function runTinkerTs(baseUrl: string, whileIdle: (sessionId: string) => Promise<void>) {
  const service = new ServiceClient({ baseUrl, apiKey: API_KEY });
  try {
    const training = await service.createLoraTrainingClient(PLAN.base_model, {
      rank: PLAN.rank,
      seed: PLAN.seed,
    });
    const a = PLAN.adam;
    const adam = {
      learningRate: a.learning_rate,
      beta1: a.beta1,
      beta2: a.beta2,
      eps: a.eps,
      weightDecay: a.weight_decay,
      gradClipNorm: a.grad_clip_norm,
    };
    const steps = [];
    for (const step of PLAN.steps) {
      const fb = await training.forwardBackward(step.data.map(toDatum), step.loss_fn as "cross_entropy");
      const opt = await training.optimStep(adam);
      steps.push({ fb: fbView(fb), optim: { ...opt.metrics } });
    }
    const evalData = PLAN.eval.map(toDatum);
    const forward = fbView(await training.forward(evalData, "cross_entropy"));
    const statePath = (await training.saveState(PLAN.state_name)).path;
    const samplerPath = (await training.saveWeightsForSampler(PLAN.sampler_name)).path;
    const sampler = await service.createSamplingClient({ modelPath: samplerPath });
    const prompt = ModelInput.fromInts(PLAN.prompt);
    const s = PLAN.sampling;
    const sampled = await sampler.sample(prompt, {
      numSamples: PLAN.num_samples,
      samplingParams: { maxTokens: s.max_tokens, temperature: s.temperature, seed: s.seed, topK: s.top_k },
    });
    const logprobs = await sampler.computeLogprobs(prompt);
    const restored = await service.createTrainingClientFromState(statePath);
    const restoredForward = fbView(await restored.forward(evalData, "cross_entropy"));
    await whileIdle(await service.openSession());
    return {
      result: {
        steps,
        forward,
        paths: {
          state: statePath.split("/").slice(3).join("/"),
          sampler: samplerPath.split("/").slice(3).join("/"),
        },
        samples: sampled.sequences.map((q) => ({
          tokens: [...q.tokens],
          logprobs: [...(q.logprobs ?? [])],
          stop_reason: q.stopReason,
        })),
        logprobs: [...logprobs],
        restored_forward: restoredForward,
      },
      sessionId: await service.openSession(),
    };
  } finally {
    await service.close();
  }
}

interface Official {
  /** What official_ops.py wrote once its work was done (it then idles, heartbeating). */
  result: Promise<Record<string, unknown>>;
  /** Tells it to exit; resolves when it has. */
  finish(): Promise<void>;
}

/** Starts official_ops.py (the official SDK) on the plan. */
function startOfficial(baseUrl: string, dir: string): Official {
  const pySrc = process.env.TINKER_PY_SRC;
  const shim = process.env.PYSHIM_DIR;
  if (!pySrc || !shim) {
    throw new Error(
      "TINKER_PY_SRC and PYSHIM_DIR are not set: run this through `npm run test:conformance` (conformance/run.mjs prepares the official SDK)",
    );
  }
  const planFile = join(dir, "plan.json");
  const outFile = join(dir, "official.json");
  const doneFile = join(dir, "done");
  writeFileSync(planFile, JSON.stringify(PLAN));
  const script = fileURLToPath(new URL("./official_ops.py", import.meta.url));
  const child = spawn("/usr/bin/python3", [script], {
    env: {
      ...process.env,
      PYTHONPATH: [join(shim, "site"), join(shim, "shims"), pySrc].join(":"),
      TINKER_BASE_URL: baseUrl,
      TINKER_API_KEY: API_KEY,
      COMPARE_PLAN: planFile,
      COMPARE_OUT: outFile,
      COMPARE_DONE: doneFile,
    },
    stdio: ["ignore", "inherit", "pipe"],
  });
  let stderr = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk: string) => {
    stderr += chunk;
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), 200_000);
  const exited = new Promise<void>((resolve, reject) => {
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`official_ops.py exited with ${signal ?? code}:\n${stderr}`));
    });
  });
  const result = (async () => {
    for (;;) {
      if (existsSync(outFile)) return JSON.parse(readFileSync(outFile, "utf8")) as Record<string, unknown>;
      // An early exit (a failed step) rejects here with the script's stderr.
      await Promise.race([exited, new Promise((r) => setTimeout(r, 200))]);
      if (child.exitCode !== null && !existsSync(outFile)) await exited;
    }
  })();
  return {
    result,
    finish: async () => {
      writeFileSync(doneFile, "");
      await exited;
    },
  };
}

describe("official Python SDK vs tinker-ts against one tinker-local", () => {
  let server: LocalServer;
  let dir: string;
  let ours: Awaited<ReturnType<typeof runTinkerTs>>;
  let theirs: Record<string, unknown>;
  /** Heartbeats the server counted for each session in a window where both were idle. */
  let beats: { official: number; ours: number; officialAlive: boolean; oursAlive: boolean };

  before(async () => {
    server = await startServer({ port: 0 });
    dir = mkdtempSync(join(tmpdir(), "tinker-compare-"));
    const official = startOfficial(server.url, dir);
    // Concurrently: the two sessions overlap, as two users of one server would. Once both have done
    // their work, both idle through one common window, read from the server's session records.
    const idle = async (sessionId: string) => {
      theirs = await official.result;
      const count = (id: string) => server.store.sessions.get(id)?.heartbeatCount ?? Number.NaN;
      const officialId = String(theirs.session_id);
      const start = { official: count(officialId), ours: count(sessionId) };
      await new Promise((r) => setTimeout(r, HEARTBEAT_WINDOW_MS));
      beats = {
        official: count(officialId) - start.official,
        ours: count(sessionId) - start.ours,
        officialAlive: server.store.sessions.get(officialId)?.expiredAt === null,
        oursAlive: server.store.sessions.get(sessionId)?.expiredAt === null,
      };
    };
    try {
      ours = await runTinkerTs(server.url, idle);
    } finally {
      await official.finish();
    }
  });
  after(async () => {
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const compared = [
    ["training steps: forward_backward losses, logprobs, metrics; optim_step metrics", "steps"],
    ["forward after training: losses and logprobs", "forward"],
    ["checkpoint paths (below the run id)", "paths"],
    ["sample with a seed: tokens, logprobs, stop reasons", "samples"],
    ["compute_logprobs", "logprobs"],
    ["restore from state: forward of the restored model", "restored_forward"],
  ] as const;
  for (const [title, key] of compared) {
    test(`${title}: equal bit for bit`, () => {
      assert.deepStrictEqual(ours.result[key], theirs[key]);
    });
  }

  test("the compared quantities are not trivial", () => {
    const { steps, forward, samples, restored_forward } = ours.result;
    const losses = steps.map((s) => s.fb.metrics["loss:sum"]);
    assert.equal(new Set(losses).size, losses.length, `every step has its own loss: ${losses}`);
    assert.ok(steps.every((s) => s.fb.outputs.length > 0 && Object.keys(s.optim).length > 0));
    assert.ok(forward.outputs.every((o) => (o.logprobs?.length ?? 0) > 0));
    // Restoring the saved state gives the trained model, not a fresh one.
    assert.deepStrictEqual(restored_forward, forward);
    assert.equal(samples.length, PLAN.num_samples);
    assert.ok(samples.every((s) => s.tokens.length > 0 && s.logprobs.length === s.tokens.length));
  });

  test("the heartbeat kept both sessions alive the same way (server records)", () => {
    assert.equal(ours.sessionId === theirs.session_id, false, "two sessions");
    assert.ok(beats.officialAlive && beats.oursAlive, "both sessions are alive on the server");
    // Both SDKs beat every 10 s: in a common 21 s window each beat twice, give or take the one beat
    // their different phases allow; never zero, never a burst.
    for (const [who, n] of [
      ["official SDK", beats.official],
      ["tinker-ts", beats.ours],
    ] as const) {
      assert.ok(n >= 1 && n <= 3, `${who}: ${n} heartbeats in ${HEARTBEAT_WINDOW_MS} ms`);
    }
    assert.ok(
      Math.abs(beats.official - beats.ours) <= 1,
      `official ${beats.official} vs tinker-ts ${beats.ours}`,
    );
  });
});
