// Import-graph rules, checked by `npm run lint` (`npm run lint:imports` runs depcruise over the
// src/ of every package under packages/). Type-only imports count: a circle of types is still a
// circle a reader has to untangle, and a layer rule broken by a type is still broken.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment: "No import circles, in any package.",
      from: {},
      to: { circular: true },
    },
    {
      name: "local-layers-down",
      severity: "error",
      comment:
        "tinker-local: data flows down http/ -> engine/ -> model/ and store/. Nothing in model/ or store/ imports engine/ or http/.",
      from: { path: "^packages/tinker-local/src/(model|store)/" },
      to: { path: "^packages/tinker-local/src/(engine|http)/" },
    },
    {
      name: "local-engine-not-http",
      severity: "error",
      comment: "tinker-local: engine/ runs the work and knows nothing about HTTP.",
      from: { path: "^packages/tinker-local/src/engine/" },
      to: { path: "^packages/tinker-local/src/http/" },
    },
    {
      name: "local-model-pure",
      severity: "error",
      comment:
        "tinker-local: model/ is pure computation (it runs inside workers): no store, no engine, no HTTP.",
      from: { path: "^packages/tinker-local/src/model/" },
      to: { path: "^packages/tinker-local/src/(store|engine|http)/" },
    },
    {
      name: "local-no-route-imports-route",
      severity: "error",
      comment:
        "tinker-local: each endpoint group stands alone; what two groups share lives in http/, outside routes/.",
      from: { path: "^packages/tinker-local/src/http/routes/" },
      to: { path: "^packages/tinker-local/src/http/routes/" },
    },
    {
      name: "local-worker-entry-pure",
      severity: "error",
      comment:
        "tinker-local: the worker thread's entry loads the model layer and the message types only (no store, no HTTP, no main-thread engine).",
      from: { path: "^packages/tinker-local/src/engine/model-worker\\.ts$" },
      to: {
        path: "^packages/tinker-local/src/",
        pathNot: "^packages/tinker-local/src/(model/|engine/worker-protocol\\.ts$)",
      },
    },
    {
      name: "local-leaves",
      severity: "error",
      comment:
        "tinker-local: clock.ts, log.ts and errors.ts are leaves everything may import; they import nothing local.",
      from: { path: "^packages/tinker-local/src/(clock|log|errors)\\.ts$" },
      to: { path: "^packages/tinker-local/src/" },
    },
    {
      name: "sdk-never-imports-server",
      severity: "error",
      comment: "The SDK does not depend on tinker-local (nor on the cookbook).",
      from: { path: "^packages/tinker/src/" },
      to: { path: "^packages/(tinker-local|cookbook)/" },
    },
    {
      name: "not-to-unresolvable",
      severity: "error",
      comment: "An import the checker cannot resolve would hide edges from the rules above.",
      from: { path: "^packages/[^/]+/src/" },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    includeOnly: "^packages/[^/]+/src/",
    exclude: { path: "(^|/)(node_modules|dist)/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.base.json" },
    enhancedResolveOptions: {
      // Workspace packages resolve to their sources through the export condition the tests use.
      conditionNames: ["tinker-source", "import", "types", "default", "node"],
      exportsFields: ["exports"],
      mainFields: ["module", "main", "types"],
    },
  },
};
