#!/usr/bin/env node
// The `tinker` command. A committed shim rather than a pointer into dist/, so npm links the command
// at install time even before the package is built; it loads the compiled CLI.
import("../dist/cli/main.js").catch((error) => {
  if (error?.code === "ERR_MODULE_NOT_FOUND" && String(error.message).includes("dist")) {
    process.stderr.write("tinker: not built yet; run `npm run build` in the repository first\n");
    process.exit(1);
  }
  throw error;
});
