// What `import "tinker-ts"` loads. Every package loaded at import time costs every user's process
// memory (jose alone adds several MiB of RSS), so the ones only some calls need are loaded on
// first use: jose for JWT claims, tar-stream for checkpoint downloads; protobuf-es is not loaded
// at all (the SDK's protobuf directions use the direct writer and reader). A child process imports the
// SDK with a module hook that records each package resolved, then the test checks the lazy ones
// were not among them, and that they do load when their call runs.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import { runModule } from "./helpers/child-module.js";

const dir = mkdtempSync(join(tmpdir(), "tinker-footprint-"));
after(() => rmSync(dir, { recursive: true, force: true }));
const hook = join(dir, "hook.mjs");
writeFileSync(
  hook,
  `export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  const m = /node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//.exec(result.url);
  if (m) process.stderr.write("loaded-package " + m[1] + "\\n");
  return result;
}
`,
);
const register = join(dir, "register.mjs");
writeFileSync(
  register,
  `import { register } from "node:module";\nregister(${JSON.stringify(pathToFileURL(hook).href)});\n`,
);

/** The packages a child process resolves while it runs `code` (an ES module body). */
async function packagesLoadedBy(code: string): Promise<Set<string>> {
  const { stderr } = await runModule(code, { nodeArgs: ["--import", register] });
  return new Set([...stderr.matchAll(/^loaded-package (\S+)$/gm)].map((m) => m[1]!));
}

describe("import footprint", () => {
  it("importing tinker-ts loads neither jose, tar-stream nor protobuf-es", async () => {
    const loaded = await packagesLoadedBy(`await import("tinker-ts");`);
    // The hook works: the SDK's own eager dependencies are seen.
    assert.ok(loaded.has("valibot"), `expected valibot among ${[...loaded].join(", ")}`);
    // zod 4 loads its 64 message locales at import (about 10 MiB); the SDK checks with valibot.
    assert.ok(!loaded.has("zod"), "zod is loaded at import time");
    assert.ok(!loaded.has("jose"), "jose is loaded at import time");
    assert.ok(!loaded.has("tar-stream"), "tar-stream is loaded at import time");
    assert.ok(!loaded.has("@bufbuild/protobuf"), "protobuf-es is loaded at import time");
  });

  it("jose loads when a JWT is decoded", async () => {
    const loaded = await packagesLoadedBy(
      `const auth = await import("./src/client/auth.ts");
       if ((await auth.readClaims("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"))?.sub !== "x") throw new Error("claims");`,
    );
    assert.ok(loaded.has("jose"));
  });
});
