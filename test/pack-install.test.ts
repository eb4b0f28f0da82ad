// The packages as a user gets them: every non-private workspace package is packed with `npm pack`
// (its prepack builds it), the tarballs are installed into an empty project outside the repository,
// and that project runs a plain-Node ESM script, a CommonJS require() script, the `tinker` command,
// and `tsc --noEmit` under strict settings (skipLibCheck off) against the installed types.
//
// Bounded: installs come from the npm cache (--prefer-offline) and skip install scripts; the one
// native module, better-sqlite3, gets the binary the repository's own install built when the
// versions match (building it from source again would take minutes), else it is rebuilt.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { after, before, describe, it } from "node:test";
// @ts-expect-error: plain .mjs helpers shared with the lint checks, without type declarations
import { packPackage } from "../scripts/pack.mjs";
// @ts-expect-error: as above
import { publishablePackages, repoRoot } from "../scripts/workspaces.mjs";

interface Pkg {
  dir: string;
  manifest: { name: string; version: string; dependencies?: Record<string, string> };
}

const MINUTE = 60_000;
const packages: Pkg[] = publishablePackages();

function run(cmd: string, args: string[], cwd: string, timeout = 5 * MINUTE): string {
  return execFileSync(cmd, args, {
    cwd,
    encoding: "utf8",
    timeout,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NODE_OPTIONS: "" },
  });
}

function installedVersion(dir: string, name: string): string | undefined {
  const file = join(dir, "node_modules", name, "package.json");
  return existsSync(file) ? JSON.parse(readFileSync(file, "utf8")).version : undefined;
}

const ESM_SCRIPT = `
import { Datum, ModelInput, ServiceClient, SDK_VERSION } from "tinker-ts";
import { DEFAULT_LOCAL_API_KEY, startServer } from "tinker-local";

const server = await startServer({ port: 0, dataDir: "./data" });
const service = new ServiceClient({ baseUrl: server.url, apiKey: DEFAULT_LOCAL_API_KEY, logLevel: "off" });
const training = await service.createLoraTrainingClient("tinker-local/tiny", { rank: 4 });
const tokenizer = await training.getTokenizer();
const datum = Datum.forNextTokenPrediction(tokenizer.encode("maple=MAPLE\\n"));
const [fb] = await Promise.all([
  training.forwardBackward([datum], "cross_entropy"),
  training.optimStep({ learningRate: 1e-3 }),
]);
const sampler = await training.saveWeightsAndGetSamplingClient();
const out = await sampler.sample(ModelInput.fromInts(tokenizer.encode("maple=")), {
  samplingParams: { maxTokens: 3, temperature: 0 },
});
await service.close();
await server.close();
console.log(JSON.stringify({ version: SDK_VERSION, loss: fb.metrics["loss:sum"], sampled: out.sequences[0].tokens.length }));
`;

const CJS_SCRIPT = `
// CommonJS consumers: require() of these ES modules works on Node >= 20.19 (the engines floor).
const tinker = require("tinker-ts");
const local = require("tinker-local");
console.log(JSON.stringify({ serviceClient: typeof tinker.ServiceClient, startServer: typeof local.startServer }));
`;

const TS_ESM = `
import { type Datum as DatumType, Datum, ServiceClient, type TrainingClient, ValidationError } from "tinker-ts";
import { type LocalServer, startServer } from "tinker-local";
import type { LossFnType } from "tinker-ts";

export async function train(server: LocalServer): Promise<number> {
  const service = new ServiceClient({ baseUrl: server.url, apiKey: "tml-local-dev" });
  const training: TrainingClient = await service.createLoraTrainingClient("tinker-local/tiny", { rank: 4 });
  const data: DatumType[] = [Datum.forNextTokenPrediction([1, 2, 3])];
  const loss: LossFnType = "cross_entropy";
  const result = await training.forwardBackward(data, loss);
  const value: number | undefined = result.metrics["loss:sum"];
  return value ?? Number.NaN;
}
export const isValidation = (e: unknown): e is ValidationError => e instanceof ValidationError;
export const start: () => Promise<LocalServer> = () => startServer({ port: 0 });
`;

const TS_CJS = `
import tinker = require("tinker-ts");
import local = require("tinker-local");
export const make = (url: string): tinker.ServiceClient => new tinker.ServiceClient({ baseUrl: url });
export const start: typeof local.startServer = local.startServer;
`;

const TSCONFIG = {
  compilerOptions: {
    strict: true,
    noEmit: true,
    skipLibCheck: false,
    module: "nodenext",
    moduleResolution: "nodenext",
    target: "es2022",
    types: ["node"],
    noUncheckedIndexedAccess: true,
    exactOptionalPropertyTypes: true,
  },
  include: ["*.ts", "*.cts"],
};

describe("pack and install every published package", { timeout: 20 * MINUTE }, () => {
  let work = "";
  let app = "";
  const tarballs: string[] = [];

  before(() => {
    work = mkdtempSync(join(tmpdir(), "tinker-pack-install-"));
    assert.ok(relative(repoRoot, work).startsWith(".."), "the consumer project is outside the repository");
    const dest = join(work, "tarballs");
    mkdirSync(dest);
    for (const pkg of packages) {
      const { tarball, files } = packPackage(pkg, dest);
      console.log(`packed ${pkg.manifest.name}: ${files.length} files, ${relative(work, tarball)}`);
      tarballs.push(tarball);
    }
    app = join(work, "app");
    mkdirSync(app);
    writeFileSync(
      join(app, "package.json"),
      JSON.stringify({ name: "consumer", private: true, type: "module", version: "0.0.0" }, null, 2),
    );
    const tsVersion = installedVersion(repoRoot, "typescript");
    const nodeTypes = installedVersion(repoRoot, "@types/node");
    const started = Date.now();
    run(
      "npm",
      [
        "install",
        "--prefer-offline",
        "--ignore-scripts",
        "--no-audit",
        "--no-fund",
        ...tarballs,
        `typescript@${tsVersion}`,
        `@types/node@${nodeTypes}`,
      ],
      app,
      8 * MINUTE,
    );
    // better-sqlite3's install script builds a native binary; reuse the repository's when it fits.
    const sqlite = "better-sqlite3";
    const built = join(repoRoot, "node_modules", sqlite, "build");
    if (installedVersion(app, sqlite) === installedVersion(repoRoot, sqlite) && existsSync(built)) {
      cpSync(built, join(app, "node_modules", sqlite, "build"), { recursive: true });
    } else {
      run("npm", ["rebuild", sqlite], app, 10 * MINUTE);
    }
    console.log(`installed ${tarballs.length} tarballs in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });
  after(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("installs our tarballs, not registry copies, with tinker-ts shared by tinker-local", () => {
    for (const pkg of packages) {
      assert.equal(installedVersion(app, pkg.manifest.name), pkg.manifest.version, pkg.manifest.name);
      const lock = JSON.parse(readFileSync(join(app, "package-lock.json"), "utf8"));
      const entry = lock.packages[`node_modules/${pkg.manifest.name}`];
      assert.match(String(entry.resolved), /^file:/, `${pkg.manifest.name} comes from its tarball`);
    }
    const local = packages.find((p) => p.manifest.name === "tinker-local");
    assert.ok(local, "tinker-local is a published workspace package");
    assert.match(local.manifest.dependencies?.["tinker-ts"] ?? "", /^[\^~]/, "a version range");
    assert.equal(existsSync(join(app, "node_modules", "tinker-local", "node_modules", "tinker-ts")), false);
    for (const pkg of packages) {
      const root = join(app, "node_modules", pkg.manifest.name);
      for (const f of ["README.md", "LICENSE", "CHANGELOG.md", "dist/index.js", "dist/index.d.ts"]) {
        assert.ok(existsSync(join(root, f)), `${pkg.manifest.name}/${f}`);
      }
    }
  });

  it("a plain-Node ESM script trains and samples through the installed packages", () => {
    writeFileSync(join(app, "train.mjs"), ESM_SCRIPT);
    const line =
      run(process.execPath, ["train.mjs"], app, 3 * MINUTE)
        .trim()
        .split("\n")
        .at(-1) ?? "";
    console.log(`train.mjs: ${line}`);
    const result = JSON.parse(line);
    assert.equal(result.version, packages.find((p) => p.manifest.name === "tinker-ts")?.manifest.version);
    assert.ok(Number.isFinite(result.loss) && result.loss > 0, `loss ${result.loss}`);
    assert.ok(result.sampled >= 1 && result.sampled <= 3);
  });

  it("a CommonJS script loads both with require()", () => {
    writeFileSync(join(app, "load.cjs"), CJS_SCRIPT);
    const line = run(process.execPath, ["load.cjs"], app).trim().split("\n").at(-1) ?? "";
    console.log(`load.cjs: ${line}`);
    assert.deepEqual(JSON.parse(line), { serviceClient: "function", startServer: "function" });
  });

  it("the installed commands run: tinker --version and tinker-local --help", () => {
    const version = run(join(app, "node_modules", ".bin", "tinker"), ["--version"], app).trim();
    assert.equal(version, packages.find((p) => p.manifest.name === "tinker-ts")?.manifest.version);
    const help = run(join(app, "node_modules", ".bin", "tinker-local"), ["--help"], app);
    assert.match(help, /--port/);
  });

  it("tsc --noEmit, strict, skipLibCheck off, ESM and CJS files, accepts the installed types", () => {
    writeFileSync(join(app, "check.ts"), TS_ESM);
    writeFileSync(join(app, "check-cjs.cts"), TS_CJS);
    writeFileSync(join(app, "tsconfig.json"), JSON.stringify(TSCONFIG, null, 2));
    try {
      run(join(app, "node_modules", ".bin", "tsc"), ["-p", "."], app, 3 * MINUTE);
    } catch (error) {
      const e = error as { stdout?: string; stderr?: string };
      assert.fail(`tsc failed:\n${e.stdout ?? ""}${e.stderr ?? ""}`);
    }
    console.log("tsc --noEmit: 0 errors");
  });
});
