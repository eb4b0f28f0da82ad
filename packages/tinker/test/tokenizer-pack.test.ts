// The SDK's own package stays small: the tokenizer data packages are optional peers, never
// dependencies, and nothing of their data is packed into tinker-ts.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { listTokenizerModels } from "tinker-ts";

const PACKAGE_DIR = fileURLToPath(new URL("..", import.meta.url));

interface PackageJson {
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

describe("tinker-ts without the tokenizer data", () => {
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as PackageJson;
  const dataPackages = [...new Set(listTokenizerModels().map((m) => m.packageName))];

  it("declares every data package as an optional peer, none as a dependency", () => {
    // The one other optional peer: `tinker checkpoint push-hf` loads the Hub client lazily.
    const otherPeers = ["@huggingface/hub"];
    const peers = Object.keys(pkg.peerDependencies ?? {});
    assert.deepEqual(peers.filter((name) => !otherPeers.includes(name)).sort(), dataPackages.sort());
    for (const name of [...dataPackages, ...otherPeers]) {
      assert.equal(pkg.dependencies?.[name], undefined, `${name} must not be a dependency`);
      assert.equal(pkg.peerDependenciesMeta?.[name]?.optional, true, `${name} must be an optional peer`);
    }
    assert.ok(pkg.dependencies?.["@huggingface/jinja"], "the template engine is a real dependency");
  });

  it("packs no tokenizer data and stays far below the size of one tokenizer.json", () => {
    const npm = process.platform === "win32" ? "npm.cmd" : "npm";
    const out = spawnSync(npm, ["pack", "--dry-run", "--json", "--ignore-scripts"], {
      cwd: PACKAGE_DIR,
      encoding: "utf8",
    });
    assert.equal(out.status, 0, out.stderr);
    const [packed] = JSON.parse(out.stdout) as { unpackedSize: number; files: { path: string }[] }[];
    assert.ok(packed);
    const data = packed.files.filter((f) => /tokenizer(_config)?\.json$|\.jinja$/.test(f.path));
    assert.deepEqual(data, []);
    // The smallest data package's tokenizer.json is about 7.5 MB; the SDK is a fraction of that.
    assert.ok(packed.unpackedSize < 4 * 2 ** 20, `tinker-ts unpacks to ${packed.unpackedSize} bytes`);
  });
});
