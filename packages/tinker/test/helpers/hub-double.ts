// A local stand-in for the Hugging Face Hub's upload API, for `tinker checkpoint push-hf` tests:
// the endpoints @huggingface/hub calls for whoami, repo and branch creation, reading a file,
// preupload, the Git LFS batch + PUT, and the commit. It records every request and keeps committed
// files per repo and branch, so a test can check exactly what arrived. It is a test double of a
// third-party service at the network boundary, not of Tinker's wire.

import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** One request as it arrived. */
export interface HubRequest {
  method: string;
  path: string;
  authorization: string | undefined;
  body: Buffer;
}

/** One commit as the double applied it. */
export interface HubCommit {
  repo: string;
  branch: string;
  summary: string;
  pullRequest: boolean;
  files: Record<string, Buffer>;
}

/** The double's state and controls. */
export interface HubDouble {
  url: string;
  token: string;
  user: string;
  requests: HubRequest[];
  /** Repos that exist, with their visibility, from creation. */
  repos: Map<string, { private: boolean }>;
  /** Files on each `repo@branch`. */
  trees: Map<string, Map<string, Buffer>>;
  commits: HubCommit[];
  close(): Promise<void>;
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  res.writeHead(status, {
    "content-type": typeof body === "string" ? "text/plain" : "application/json",
    ...headers,
  });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Starts the double on 127.0.0.1; `token` is the only one it accepts, for user `user`. */
export async function startHubDouble(token: string, user = "alice"): Promise<HubDouble> {
  const requests: HubRequest[] = [];
  const repos = new Map<string, { private: boolean }>();
  const trees = new Map<string, Map<string, Buffer>>();
  const commits: HubCommit[] = [];
  const lfs = new Map<string, Buffer>();
  let url = "";

  const tree = (repo: string, branch: string) => {
    const key = `${repo}@${branch}`;
    let t = trees.get(key);
    if (!t) {
      t = new Map();
      trees.set(key, t);
    }
    return t;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const body = await readBody(req);
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    const method = req.method ?? "GET";
    requests.push({ method, path, authorization: req.headers.authorization, body });
    // The capture groups when this request is `verb` on a path matching `pattern`.
    const on = (verb: string, pattern: RegExp): string[] | undefined => {
      const found = method === verb ? pattern.exec(path) : null;
      return found ? found.slice(1).map(String) : undefined;
    };
    let m: string[] | undefined;

    // The LFS storage URL the batch answer hands out: presigned, so no token is expected.
    m = on("PUT", /^\/lfs-storage\/([0-9a-f]{64})$/);
    if (m) {
      const oid = m[0] as string;
      if (createHash("sha256").update(body).digest("hex") !== oid)
        return send(res, 400, { error: "sha mismatch" });
      lfs.set(oid, body);
      return send(res, 200, {});
    }
    if (req.headers.authorization !== `Bearer ${token}`)
      return send(res, 401, { error: "Invalid credentials in Authorization header" });

    if (path === "/api/whoami-v2" && method === "GET") {
      return send(res, 200, { type: "user", name: user, auth: { type: "access_token" } });
    }
    if (path === "/api/repos/create" && method === "POST") {
      const json = JSON.parse(body.toString("utf8")) as {
        name: string;
        organization: string;
        visibility?: string;
      };
      const repo = `${json.organization}/${json.name}`;
      if (repos.has(repo)) return send(res, 409, { error: "You already created this model repo" });
      repos.set(repo, { private: json.visibility !== "public" });
      tree(repo, "main");
      return send(res, 200, { url: `${url}/${repo}`, id: repo });
    }
    m = on("POST", /^\/api\/models\/([^/]+\/[^/]+)\/branch\/(.+)$/);
    if (m) {
      const [repo, branch] = [m[0] as string, m[1] as string];
      if (!repos.has(repo)) return send(res, 404, { error: "Repository not found" });
      if (trees.has(`${repo}@${branch}`)) return send(res, 409, { error: "Reference already exists" });
      trees.set(`${repo}@${branch}`, new Map(tree(repo, "main")));
      return send(res, 200, {});
    }
    m = on("GET", /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/);
    if (m) {
      const [repo, branch, file] = [m[0] as string, m[1] as string, m[2] as string];
      const content = trees.get(`${repo}@${branch}`)?.get(file);
      if (!content) return send(res, 404, { error: "Entry not found" }, { "x-error-code": "EntryNotFound" });
      const range = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? "");
      const start = range ? Number(range[1]) : 0;
      const end = range ? Math.min(Number(range[2]), content.length - 1) : content.length - 1;
      res.writeHead(range ? 206 : 200, {
        "content-type": "text/plain",
        etag: `"${createHash("sha256").update(content).digest("hex")}"`,
        "content-range": `bytes ${start}-${end}/${content.length}`,
      });
      return res.end(content.subarray(start, end + 1));
    }
    m = on("POST", /^\/api\/models\/([^/]+\/[^/]+)\/preupload\/(.+)$/);
    if (m) {
      const json = JSON.parse(body.toString("utf8")) as { files: { path: string }[] };
      return send(res, 200, {
        files: json.files.map((f) => ({
          path: f.path,
          uploadMode: /\.(safetensors|bin)$/.test(f.path) ? "lfs" : "regular",
        })),
      });
    }
    m = on("POST", /^\/([^/]+\/[^/]+)\.git\/info\/lfs\/objects\/batch$/);
    if (m) {
      const json = JSON.parse(body.toString("utf8")) as { objects: { oid: string; size: number }[] };
      return send(res, 200, {
        transfer: "basic",
        objects: json.objects.map((o) => ({
          oid: o.oid,
          size: o.size,
          actions: lfs.has(o.oid) ? undefined : { upload: { href: `${url}/lfs-storage/${o.oid}` } },
        })),
      });
    }
    m = on("POST", /^\/api\/models\/([^/]+\/[^/]+)\/commit\/(.+)$/);
    if (m) {
      const [repo, branch] = [m[0] as string, m[1] as string];
      if (!trees.has(`${repo}@${branch}`)) return send(res, 404, { error: `Invalid rev id: ${branch}` });
      const lines = body
        .toString("utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { key: string; value: Record<string, string> });
      const files: Record<string, Buffer> = {};
      let summary = "";
      for (const { key, value } of lines) {
        if (key === "header") summary = value.summary ?? "";
        else if (key === "file") files[value.path as string] = Buffer.from(value.content as string, "base64");
        else if (key === "lfsFile") {
          const stored = lfs.get(value.oid as string);
          if (!stored) return send(res, 422, { error: `LFS object ${value.oid} was never uploaded` });
          files[value.path as string] = stored;
        }
      }
      const pullRequest = new URL(req.url ?? "/", "http://x").searchParams.get("create_pr") === "1";
      commits.push({ repo, branch, summary, pullRequest, files });
      if (!pullRequest) for (const [p, c] of Object.entries(files)) tree(repo, branch).set(p, c);
      const oid = createHash("sha1").update(body).digest("hex");
      return send(res, 200, {
        commitOid: oid,
        commitUrl: `${url}/${repo}/commit/${oid}`,
        ...(pullRequest ? { pullRequestUrl: `${url}/${repo}/discussions/1` } : {}),
      });
    }
    return send(res, 404, { error: `the hub double has no ${method} ${path}` });
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => send(res, 500, { error: String(error) }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    token,
    user,
    requests,
    repos,
    trees,
    commits,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
