// The Node transport over https: node:https is loaded by the first https request, not at import
// (TLS and most of node:crypto, about 1 MiB of RSS that a plain-http process never needs), and a
// request through it works. A child process, so that what it loads is its own; it trusts the
// fixture's self-signed certificate for 127.0.0.1 (test-only, made with
// `openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 36500
// -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1`) through NODE_EXTRA_CA_CERTS.
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { runModule } from "./helpers/child-module.js";

const FIXTURES = join(import.meta.dirname, "fixtures");

test("node:https loads on the first https request, and the request goes through", async () => {
  const code = `
    import { readFileSync } from "node:fs";
    import { NodeTransport } from "./src/client/transport-node.ts";
    const loaded = () => process.moduleLoadList.includes("NativeModule https");
    const before = loaded();
    const transport = new NodeTransport();
    const afterConstruct = loaded();
    // The test's own server needs node:https; it is imported here, after the checks above.
    const { default: https } = await import("node:https");
    const server = https.createServer(
      { key: readFileSync(${JSON.stringify(join(FIXTURES, "tls-localhost.key.pem"))}),
        cert: readFileSync(${JSON.stringify(join(FIXTURES, "tls-localhost.cert.pem"))}) },
      (req, res) => { res.setHeader("content-type", "application/json"); res.end('{"secure":true}'); },
    );
    await new Promise((r) => server.listen(0, "127.0.0.1", r));
    const res = await transport.request({
      url: "https://127.0.0.1:" + server.address().port + "/api/v1/healthz",
      method: "GET", headers: {}, body: undefined, signal: new AbortController().signal, redirect: "follow",
    });
    const text = await res.text();
    await transport.close();
    server.close();
    process.stdout.write(JSON.stringify({ before, afterConstruct, status: res.status, text }));
  `;
  const { stdout: out } = await runModule(code, {
    env: { ...process.env, NODE_EXTRA_CA_CERTS: join(FIXTURES, "tls-localhost.cert.pem") },
  });
  assert.deepEqual(JSON.parse(out), {
    before: false,
    afterConstruct: false,
    status: 200,
    text: '{"secure":true}',
  });
});
