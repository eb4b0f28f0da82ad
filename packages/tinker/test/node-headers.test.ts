// The Node transport's response headers (client/node-headers.ts): get/has straight from Node's
// parsed headers, everything else through a real Headers made on first use, and the same answers
// either way. A child process shows a request through the transport does not load Node's bundled
// undici, which the first `new Headers()` of a process loads (about 6 MiB of RSS).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { NodeHeaders, toHeaders } from "../src/client/node-headers.js";
import { runModule } from "./helpers/child-module.js";

const RAW = {
  "content-type": "application/json",
  "x-request-id": "req-1",
  "set-cookie": ["a=1", "b=2"],
  "retry-after": "3",
  absent: undefined,
};

describe("NodeHeaders", () => {
  it("get and has answer as a real Headers does, whatever the case of the name", () => {
    const lazy = new NodeHeaders(RAW);
    const real = toHeaders(RAW);
    for (const name of [
      "content-type",
      "Content-Type",
      "X-REQUEST-ID",
      "set-cookie",
      "retry-after",
      "absent",
      "nope",
    ]) {
      assert.equal(lazy.get(name), real.get(name), name);
      assert.equal(lazy.has(name), real.has(name), name);
    }
  });

  it("iterates, copies and changes as a real Headers, and answers get from the change", () => {
    const lazy = new NodeHeaders(RAW);
    assert.deepEqual([...lazy], [...toHeaders(RAW)]);
    assert.deepEqual(lazy.getSetCookie(), ["a=1", "b=2"]);
    assert.deepEqual([...new Headers(lazy).keys()], [...toHeaders(RAW).keys()]);
    lazy.set("x-request-id", "req-2");
    lazy.delete("retry-after");
    lazy.append("x-extra", "1");
    assert.equal(lazy.get("x-request-id"), "req-2");
    assert.equal(lazy.has("retry-after"), false);
    assert.equal(lazy.get("X-Extra"), "1");
    const seen: string[] = [];
    lazy.forEach((value, key, parent) => {
      assert.equal(parent, lazy);
      seen.push(`${key}=${value}`);
    });
    assert.ok(seen.includes("x-extra=1"));
    assert.equal(Object.prototype.toString.call(lazy), "[object Headers]");
  });

  it("a request through the Node transport does not load Node's bundled undici", async () => {
    const code = `
      import http from "node:http";
      import { NodeTransport } from "./src/client/transport-node.ts";
      const server = http.createServer((req, res) => {
        res.setHeader("content-type", "application/json");
        res.end('{"ok":true}');
      });
      await new Promise((r) => server.listen(0, "127.0.0.1", r));
      const transport = new NodeTransport();
      const res = await transport.request({
        url: "http://127.0.0.1:" + server.address().port + "/api/v1/healthz",
        method: "GET", headers: {}, body: undefined, signal: new AbortController().signal, redirect: "follow",
      });
      const text = await res.text();
      const contentType = res.headers.get("content-type");
      const undici = process.moduleLoadList.some((m) => m.includes("deps/undici"));
      await transport.close();
      server.close();
      process.stdout.write(JSON.stringify({ text, contentType, undici }));
    `;
    const { stdout: out } = await runModule(code);
    assert.deepEqual(JSON.parse(out), {
      text: '{"ok":true}',
      contentType: "application/json",
      undici: false,
    });
  });
});
