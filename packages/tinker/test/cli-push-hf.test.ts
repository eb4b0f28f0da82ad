// `tinker checkpoint push-hf` on the built binary, against tinker-local for the checkpoint and a
// local double of the Hugging Face Hub's upload API (HF_ENDPOINT) for the upload: what arrives at
// the Hub (repo, branch, commit, file bytes, the PEFT config and model card), both output formats,
// and bad input refused before any request, with neither the Tinker key nor the HF token printed.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, beforeEach, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { createModel, type LocalServer, ownerIdForKey, startServer } from "tinker-local";
import { buildCli, openSessionOn } from "./helpers/cli.js";
import { type HubDouble, startHubDouble } from "./helpers/hub-double.js";

const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const BIN = join(REPO_ROOT, "packages/tinker/dist/cli/main.js");
const KEY = "tml-cli-push-hf-test-key-3";
const HF_TOKEN = "hf_pushHfDoubleToken0123456789abcdefXYZ";
const OWNER = ownerIdForKey(KEY);

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

let server: LocalServer;
let hub: HubDouble;
let work: string;
let emptyHfHome: string;
let weights: Uint8Array;
let sessionId: string;

function tinker(args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> {
  const merged: Record<string, string | undefined> = {
    ...process.env,
    TINKER_API_KEY: KEY,
    TINKER_BASE_URL: server.url,
    HF_ENDPOINT: hub.url,
    HF_TOKEN,
    // Never the developer's own login: an empty HF home unless a test gives one.
    HF_HOME: emptyHfHome,
    ...env,
  };
  for (const name of ["TINKER_LOG", "HF_TOKEN_PATH", "XDG_CACHE_HOME"]) delete merged[name];
  for (const [k, v] of Object.entries(merged)) if (v === undefined) delete merged[k];
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [BIN, ...args], {
      cwd: work,
      env: merged,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    proc.stdout.on("data", (d) => (stdout += d));
    proc.stderr.on("data", (d) => (stderr += d));
    proc.on("close", (code) => {
      for (const secret of [KEY, HF_TOKEN]) {
        assert.ok(
          !stdout.includes(secret) && !stderr.includes(secret),
          `a secret was printed by: ${args.join(" ")}`,
        );
      }
      resolve({ code, stdout, stderr });
    });
  });
}

function ok(r: CliResult): string {
  assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}`);
  return r.stdout;
}

let runs = 0;
function seedCheckpoint(
  checkpointId: string,
  config: Record<string, unknown>,
): { path: string; runId: string } {
  const runId = `${sessionId}:train:${runs++}`;
  server.store.runs.create({
    id: runId,
    owner: OWNER,
    sessionId,
    baseModel: "tinker-local/tiny",
    isLora: true,
    loraRank: 4,
    trainMlp: true,
    trainAttn: false,
    trainUnembed: true,
    userMetadata: {},
  });
  const files = {
    "adapter_model.safetensors": weights,
    "adapter_config.json": new TextEncoder().encode(JSON.stringify(config)),
  };
  const path = server.store.checkpoints.save(
    { runId, checkpointId, kind: "training", owner: OWNER, expiresAt: null, createdAt: Date.now() },
    files,
  ).tinkerPath;
  return { path, runId };
}

describe("tinker checkpoint push-hf (built binary, tinker-local, a local Hub double)", () => {
  let peftConfig: Record<string, unknown>;

  before(async () => {
    await buildCli();
    const model = createModel("tinker-local/tiny", { rank: 4 });
    try {
      weights = model.saveWeights();
      peftConfig = model.adapterConfig() as unknown as Record<string, unknown>;
    } finally {
      model.dispose();
    }
    work = mkdtempSync(join(tmpdir(), "tinker-push-hf-"));
    emptyHfHome = join(work, "hf-home-empty");
    mkdirSync(emptyHfHome);
    server = await startServer({ port: 0, apiKeys: [KEY] });
    hub = await startHubDouble(HF_TOKEN);
    sessionId = await openSessionOn(server, KEY);
  });
  after(async () => {
    await server?.close();
    await hub?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });
  beforeEach(() => {
    hub.requests.length = 0;
    server.clearRequests();
  });

  it("--repo, JSON: creates the private repo and commits the PEFT folder, the base model filled in", async () => {
    const { base_model_name_or_path: _dropped, ...withoutBase } = peftConfig;
    const { path } = seedCheckpoint("weights/final", withoutBase);
    const r = JSON.parse(
      ok(await tinker(["checkpoint", "push-hf", path, "--repo", "alice/my-adapter", "-f", "json"])),
    );
    assert.equal(r.checkpoint_path, path);
    assert.equal(r.repo_id, "alice/my-adapter");
    assert.equal(r.public, false);
    assert.equal("revision" in r, false);
    assert.deepEqual(r.files, ["README.md", "adapter_config.json", "adapter_model.safetensors"]);
    assert.match(r.commit_url, new RegExp(`^${hub.url}/alice/my-adapter/commit/[0-9a-f]+$`));

    assert.deepEqual(hub.repos.get("alice/my-adapter"), { private: true });
    assert.equal(hub.commits.length, 1);
    const commit = hub.commits[0]!;
    assert.equal(commit.branch, "main");
    assert.equal(commit.summary, `Upload Tinker checkpoint ${path}`);
    assert.deepEqual(Buffer.from(commit.files["adapter_model.safetensors"]!), Buffer.from(weights));
    const config = JSON.parse(commit.files["adapter_config.json"]!.toString("utf8"));
    assert.equal(config.base_model_name_or_path, "tinker-local/tiny", "the base model was written in");
    assert.equal(config.r, peftConfig.r, "the rest of the config is as the archive had it");
    const card = commit.files["README.md"]!.toString("utf8");
    assert.match(card, /^---\nbase_model: tinker-local\/tiny\nlibrary_name: peft\n/);
    assert.ok(card.includes(`tinker_path: ${path}\n`));
    assert.match(card, /- Adapted modules: attention=false, MLP=true, unembedding=true/);
    // Every Hub request but the presigned LFS PUT carried the token; Tinker got the archive request.
    for (const req of hub.requests.filter((q) => !q.path.startsWith("/lfs-storage/"))) {
      assert.equal(req.authorization, `Bearer ${HF_TOKEN}`, `${req.method} ${req.path}`);
    }
    assert.ok(hub.requests.some((q) => q.method === "PUT" && q.authorization === undefined));
    assert.ok(server.requests().some((q) => q.path.endsWith("/archive")));
  });

  it("no --repo, table: the derived repo and branch, --public, the token from the login file; a second push reuses them", async () => {
    const { path, runId } = seedCheckpoint("weights/step-2", peftConfig);
    const hfHome = join(work, "hf-home-login");
    mkdirSync(hfHome, { recursive: true });
    writeFileSync(join(hfHome, "token"), `${HF_TOKEN}\n`);
    const args = ["checkpoint", "push-hf", path, "--public", "--no-model-card", "-f", "table"];
    const text = ok(await tinker(args, { HF_TOKEN: undefined, HF_HOME: hfHome }));
    const repo = `alice/tinker-tiny-${runId.replace(/[^A-Za-z0-9_.-]/g, "-")}`;
    assert.match(text, new RegExp(`Repo ID\\s*│\\s*${repo.replace(/\./g, "\\.")}`));
    assert.match(text, /Revision\s*│\s*weights-step-2/);
    assert.match(text, /Public\s*│\s*Yes/);
    assert.deepEqual(hub.repos.get(repo), { private: false });
    const files = hub.trees.get(`${repo}@weights-step-2`);
    assert.deepEqual([...(files?.keys() ?? [])].sort(), ["adapter_config.json", "adapter_model.safetensors"]);
    assert.equal(hub.trees.get(`${repo}@main`)?.size, 0, "main is untouched; the commit went to the branch");

    // Again, with a card: the repo and branch exist (409s are fine) and the card names this checkpoint.
    const again = ["checkpoint", "push-hf", path, "--ignore-pattern", "*.json", "-f", "json"];
    const r = JSON.parse(ok(await tinker(again, { HF_TOKEN: undefined, HF_HOME: hfHome })));
    assert.deepEqual(r.files, ["README.md", "adapter_model.safetensors"]);
    assert.equal(r.public, false);
    assert.ok(hub.trees.get(`${repo}@weights-step-2`)?.get("README.md")?.toString("utf8").includes(path));
  });

  it("--create-pr: the commit is a pull request and its URL is printed", async () => {
    const { path } = seedCheckpoint("weights/pr", peftConfig);
    const args = [
      "checkpoint",
      "push-hf",
      path,
      "-r",
      "alice/pr-target",
      "--create-pr",
      "--commit-message",
      "v2",
      "-f",
      "json",
    ];
    const r = JSON.parse(ok(await tinker(args)));
    assert.match(r.pull_request_url, /\/alice\/pr-target\/discussions\/1$/);
    const commit = hub.commits.at(-1)!;
    assert.deepEqual([commit.repo, commit.pullRequest, commit.summary], ["alice/pr-target", true, "v2"]);
  });

  it("a repo whose card names another checkpoint is refused before anything is uploaded", async () => {
    const first = seedCheckpoint("weights/a", peftConfig);
    ok(await tinker(["checkpoint", "push-hf", first.path, "-r", "alice/shared", "-f", "json"]));
    const commits = hub.commits.length;
    const second = seedCheckpoint("weights/b", peftConfig);
    const r = await tinker(["checkpoint", "push-hf", second.path, "-r", "alice/shared", "-f", "json"]);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stdout, "");
    assert.ok(r.stderr.includes(`already holds a different Tinker checkpoint, ${first.path}`), r.stderr);
    assert.equal(hub.commits.length, commits);
  });

  it("bad input is refused before any request to Tinker or the Hub", async () => {
    const { path } = seedCheckpoint("weights/bad-input", peftConfig);
    const cases: [string[], Record<string, string | undefined>, number, RegExp][] = [
      [["-r", "alice/bad--name"], {}, 2, /--repo 'alice\/bad--name' is not a valid repo id: .*'--'/],
      [["-r", "a/b/c"], {}, 2, /more than one '\/'/],
      [["-r", "alice/x", "--revision", "-x"], {}, 2, /--revision '-x' is not a usable branch name/],
      [["-r", "alice/x", "--allow-pattern", ""], {}, 2, /--allow-pattern must not be empty/],
      [
        ["-r", "alice/x"],
        { HF_TOKEN: undefined },
        3,
        /no Hugging Face token: pass --hf-token, set HF_TOKEN, or run 'hf auth login'/,
      ],
      [
        ["-r", "alice/x", "--hf-token", "not-a-token-123"],
        {},
        3,
        /the --hf-token flag is not a Hugging Face access token/,
      ],
      [["-r", "alice/x"], { HF_ENDPOINT: "ftp://hub" }, 2, /HF_ENDPOINT must be an http\(s\) URL/],
    ];
    for (const [extra, env, code, pattern] of cases) {
      const r = await tinker(["checkpoint", "push-hf", path, ...extra, "-f", "json"], env);
      assert.equal(r.code, code, `${extra.join(" ")}: ${r.stderr}`);
      assert.equal(r.stdout, "");
      assert.match(r.stderr, pattern);
    }
    const bad = await tinker(["checkpoint", "push-hf", "tinker://run/weights", "-r", "alice/x"]);
    assert.equal(bad.code, 2, bad.stderr);
    assert.deepEqual(hub.requests, [], "the Hub received nothing");
    assert.deepEqual(server.requests(), [], "Tinker received nothing");
  });

  it("a token the Hub refuses: exit 3, said in words, nothing downloaded, the token not printed", async () => {
    const { path } = seedCheckpoint("weights/refused", peftConfig);
    const wrong = "hf_wrongTokenForTheDouble0123456789abc";
    const r = await tinker(["checkpoint", "push-hf", path, "-r", "alice/x", "--hf-token", wrong]);
    assert.equal(r.code, 3, r.stderr);
    assert.match(
      r.stderr,
      /refused the Hugging Face token from the --hf-token flag while checking the token \(whoami\) \(401\)/,
    );
    assert.ok(!r.stderr.includes(wrong));
    assert.equal(hub.requests.length, 1);
    assert.ok(!server.requests().some((q) => q.path.endsWith("/archive")));
  });
});
