// `tinker checkpoint push-hf PATH [-r REPO] [--public] [--revision B] [--commit-message M]
// [--create-pr] [--allow-pattern P]... [--ignore-pattern P]... [--no-model-card] [--hf-token T]`:
// the Python CLI's command. Downloads the checkpoint archive, makes it a PEFT adapter folder
// (adapter_config.json naming its base model, adapter_model.safetensors, a README.md model card)
// and uploads it to the Hugging Face Hub as one commit. Everything that can be checked locally
// (path, repo id, branch, patterns, token, the optional library) is checked before any request.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Command } from "commander";
import type { WeightsInfo } from "../api/rest-schemas.js";
import { registerSecret } from "../client/redact.js";
import { parseTinkerPath } from "../paths/tinker-path.js";
import {
  type CommonOptions,
  note,
  out,
  outputFormat,
  printJson,
  withClient,
  withCommonOptions,
} from "./common.js";
import { progressLine } from "./progress.js";
import {
  AdapterFolderError,
  addModelCard,
  checkAdapterFiles,
  filesToUpload,
  fillBaseModel,
  tinkerPathInCard,
} from "./push-hf/adapter-folder.js";
import { HubSession, loadHubLibrary } from "./push-hf/hub.js";
import { hubUrl, resolveHubToken } from "./push-hf/hub-credentials.js";
import { compilePatterns } from "./push-hf/patterns.js";
import { derivedTarget, formatRepoId, parseRepoId, parseRevision } from "./push-hf/repo-id.js";
import { keyValueTable } from "./render.js";

interface PushOptions extends CommonOptions {
  repo?: string;
  public?: boolean;
  revision?: string;
  commitMessage?: string;
  createPr?: boolean;
  allowPattern?: string[];
  ignorePattern?: string[];
  modelCard?: boolean;
  hfToken?: string;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function register(group: Command): void {
  withCommonOptions(
    group
      .command("push-hf")
      .description("Upload a checkpoint to the Hugging Face Hub as a PEFT adapter (needs @huggingface/hub)")
      .argument("<path>", "tinker:// path")
      .option(
        "-r, --repo <repo>",
        "Hub repo id, <user or org>/<name> (a bare name is the token owner's); default: derived from the run",
      )
      .option("--public", "create the repo public (default: private)")
      .option("--revision <branch>", "the branch to upload to (created from main if missing)")
      .option("--commit-message <message>", "the commit's title")
      .option("--create-pr", "open a pull request instead of committing to the branch")
      .option("--allow-pattern <pattern>", "upload only files matching this pattern (repeatable)", collect)
      .option("--ignore-pattern <pattern>", "skip files matching this pattern (repeatable)", collect)
      .option("--no-model-card", "do not add a README.md model card when the checkpoint has none")
      .option(
        "--hf-token <token>",
        "Hugging Face token (default: HF_TOKEN, else the `hf auth login` token file; prefer those)",
      ),
  ).action(async (path: string, opts: PushOptions) => {
    // Local checks first: nothing is sent to Tinker or the Hub until all of these pass.
    const parsed = parseTinkerPath(path);
    const given = opts.repo !== undefined ? parseRepoId(opts.repo) : undefined;
    const revisionFlag = opts.revision !== undefined ? parseRevision(opts.revision) : undefined;
    const allow = compilePatterns(opts.allowPattern, "--allow-pattern");
    const ignore = compilePatterns(opts.ignorePattern, "--ignore-pattern");
    const url = hubUrl();
    const token = resolveHubToken(opts.hfToken);
    registerSecret(token.token);
    const hub = new HubSession(await loadHubLibrary(), token, url);
    const isPublic = opts.public === true;

    const owner = await hub.whoami();
    const staging = await mkdtemp(join(tmpdir(), "tinker-push-hf-"));
    try {
      const folder = join(staging, "adapter");
      const progress = progressLine("Downloading");
      const { files, info } = await withClient(opts, async (client) => {
        const downloaded = await client
          .downloadCheckpoint(path, folder, { onProgress: (p) => progress.update(p) })
          .finally(() => progress.done());
        // The weights info only improves the card and the derived name; the Python CLI goes on without it.
        const weights: WeightsInfo | undefined = await client.getWeightsInfo(path).catch(() => undefined);
        return { files: downloaded.files, info: weights };
      });
      checkAdapterFiles(folder);
      fillBaseModel(folder, info?.baseModel);

      const target = given
        ? { name: given.name, revision: revisionFlag, namespace: given.namespace ?? owner }
        : { ...derivedTarget(parsed, info?.baseModel, revisionFlag), namespace: owner };
      const repoId = formatRepoId(target);
      const revision = target.revision;
      const wroteCard =
        opts.modelCard !== false && addModelCard(folder, { tinkerPath: path, repoId, revision, info });
      const upload = filesToUpload(wroteCard ? [...files, "README.md"] : files, allow, ignore);
      if (upload.length === 0) {
        throw new AdapterFolderError(
          `no files left to upload after --allow-pattern/--ignore-pattern (the folder has: ${files.join(", ")})`,
        );
      }

      await hub.ensureRepo(repoId, !isPublic);
      if (revision !== undefined && revision !== "main") await hub.ensureBranch(repoId, revision);
      // A repo that already holds another checkpoint is refused, as in the Python CLI.
      const existing = tinkerPathInCard((await hub.readModelCard(repoId, revision)) ?? "");
      if (existing !== undefined && existing !== path) {
        throw new AdapterFolderError(
          `${repoId}${revision ? ` (branch ${revision})` : ""} already holds a different Tinker checkpoint, ${existing}; ` +
            "choose another --repo or --revision",
        );
      }
      note(`Uploading ${upload.length} file${upload.length === 1 ? "" : "s"} to ${url}/${repoId}`);
      const result = await hub.upload(repoId, folder, upload, {
        revision,
        createPr: opts.createPr === true,
        commitMessage: opts.commitMessage ?? `Upload Tinker checkpoint ${path}`,
      });

      if (outputFormat(opts) === "json") {
        printJson({
          checkpoint_path: path,
          repo_id: repoId,
          ...(revision !== undefined ? { revision } : {}),
          public: isPublic,
          files: upload,
          commit_url: result.commitUrl ?? null,
          ...(opts.createPr ? { pull_request_url: result.pullRequestUrl ?? null } : {}),
        });
      } else {
        out(
          keyValueTable([
            ["Checkpoint Path", path],
            ["Repo ID", repoId],
            ...(revision !== undefined ? ([["Revision", revision]] as [string, string][]) : []),
            ["Public", isPublic ? "Yes" : "No"],
            ["Files", upload.join(", ")],
            ...(result.commitUrl ? ([["Commit", result.commitUrl]] as [string, string][]) : []),
            ...(result.pullRequestUrl
              ? ([["Pull Request", result.pullRequestUrl]] as [string, string][])
              : []),
          ]),
        );
      }
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  });
}
