// The local parts of `tinker checkpoint push-hf`: repo ids and branch names as the Hub allows them,
// the name derived when --repo is not given, fnmatch-style patterns as the Python CLI reads them,
// and the token's resolution order (flag, HF_TOKEN, the login file).

import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { filesToUpload } from "../src/cli/push-hf/adapter-folder.js";
import { HubAuthError, resolveHubToken, tokenFilePath } from "../src/cli/push-hf/hub-credentials.js";
import { compilePatterns } from "../src/cli/push-hf/patterns.js";
import { derivedTarget, parseRepoId, parseRevision, sanitizeRepoName } from "../src/cli/push-hf/repo-id.js";
import { ValidationError } from "../src/client/errors.js";
import { parseTinkerPath } from "../src/paths/tinker-path.js";

const TOKEN = "hf_partsTestToken0123456789";

describe("push-hf repo ids and branches", () => {
  it("accepts namespace/name and a bare name; refuses what the Hub refuses, naming the problem", () => {
    assert.deepEqual(parseRepoId("alice/my.lora_v2-x"), { namespace: "alice", name: "my.lora_v2-x" });
    assert.deepEqual(parseRepoId("adapter"), { namespace: undefined, name: "adapter" });
    for (const [bad, why] of [
      ["alice/", /repo name is empty/],
      ["/x", /namespace is empty/],
      ["alice/-x", /must start and end/],
      ["alice/x y", /may hold only/],
      ["alice/a..b", /'--' or '\.\.'/],
      ["alice/x.git", /ends with '\.git'/],
      [`alice/${"a".repeat(97)}`, /longer than 96/],
    ] as const) {
      assert.throws(
        () => parseRepoId(bad),
        (e: unknown) => e instanceof ValidationError && why.test(e.message),
        bad,
      );
    }
    assert.equal(parseRevision("weights-0001"), "weights-0001");
    assert.equal(parseRevision("release/v1"), "release/v1");
    for (const bad of ["", "a b", "-x", "a..b", "x/", "x.lock"])
      assert.throws(() => parseRevision(bad), ValidationError);
  });

  it("derives tinker-<base>-<run> on a branch named after the checkpoint, as the Python CLI does", () => {
    const path = parseTinkerPath("tinker://sess-1:train:0/sampler_weights/step_5");
    assert.deepEqual(derivedTarget(path, "Qwen/Qwen3-8B", undefined), {
      name: "tinker-Qwen3-8B-sess-1-train-0",
      revision: "sampler_weights-step_5",
    });
    assert.equal(derivedTarget(path, undefined, "main").name, "tinker-adapter-sess-1-train-0");
    assert.equal(derivedTarget(path, undefined, "main").revision, "main");
    assert.equal(sanitizeRepoName("--a//b..c__"), "a-b.c");
    // Whatever goes in, what comes out is a valid repo name.
    for (const raw of ["x".repeat(200), "::a::", "é-ü", "a -- b"]) {
      const name = sanitizeRepoName(`tinker-${raw}`);
      assert.doesNotThrow(() => parseRepoId(`alice/${name}`), name);
    }
  });
});

describe("push-hf patterns", () => {
  const files = [
    "README.md",
    "adapter_config.json",
    "adapter_model.safetensors",
    "checkpoint_complete",
    "extra/notes.txt",
  ];
  it("fnmatch meaning: * crosses '/', ?, [set], [!set], a trailing '/' is a folder", () => {
    const pick = (allow?: string[], ignore?: string[]) =>
      filesToUpload(
        files,
        compilePatterns(allow, "--allow-pattern"),
        compilePatterns(ignore, "--ignore-pattern"),
      );
    assert.deepEqual(pick(), [
      "README.md",
      "adapter_config.json",
      "adapter_model.safetensors",
      "extra/notes.txt",
    ]);
    assert.deepEqual(pick(["*.json", "*.safetensors"]), ["adapter_config.json", "adapter_model.safetensors"]);
    assert.deepEqual(pick(undefined, ["*notes*"]), [
      "README.md",
      "adapter_config.json",
      "adapter_model.safetensors",
    ]);
    assert.deepEqual(pick(["extra/"]), ["extra/notes.txt"]);
    assert.deepEqual(pick(["README.m?"]), ["README.md"]);
    assert.deepEqual(
      pick(["[!aRe]*"]),
      ["checkpoint_complete"],
      "an allow list picks the marker too, as in Python",
    );
    assert.deepEqual(pick(["a[d]apter.*"]), []);
    assert.throws(() => compilePatterns([" "], "--ignore-pattern"), /--ignore-pattern must not be empty/);
  });
});

describe("push-hf token", () => {
  it("flag, then HF_TOKEN, then HF_TOKEN_PATH / HF_HOME/token; HubAuthError without one, never echoing it", () => {
    const dir = mkdtempSync(join(tmpdir(), "push-hf-token-"));
    try {
      writeFileSync(join(dir, "token"), `${TOKEN}file\n`);
      assert.equal(resolveHubToken(TOKEN, { HF_TOKEN: `${TOKEN}env`, HF_HOME: dir }).token, TOKEN);
      assert.equal(
        resolveHubToken(undefined, { HF_TOKEN: `${TOKEN}env`, HF_HOME: dir }).token,
        `${TOKEN}env`,
      );
      const fromFile = resolveHubToken(undefined, { HF_HOME: dir });
      assert.deepEqual(fromFile, { token: `${TOKEN}file`, source: `the token file ${join(dir, "token")}` });
      assert.equal(tokenFilePath({ HF_TOKEN_PATH: "/x/t", HF_HOME: dir }), "/x/t");
      assert.equal(tokenFilePath({ XDG_CACHE_HOME: "/c" }), "/c/huggingface/token");
      assert.throws(() => resolveHubToken(undefined, { HF_HOME: join(dir, "none") }), HubAuthError);
      const odd = "secret-not-hf-0123456789";
      assert.throws(
        () => resolveHubToken(undefined, { HF_TOKEN: odd }),
        (e: unknown) =>
          e instanceof HubAuthError &&
          /HF_TOKEN environment variable/.test(e.message) &&
          !e.message.includes(odd),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
