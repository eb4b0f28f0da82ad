// The Hugging Face Hub side of `tinker checkpoint push-hf`, through @huggingface/hub (the Hub's own
// JavaScript client: repo creation, branches, LFS uploads and commits). It is an optional peer
// dependency loaded only here, so the SDK and the other commands never pay for it; a missing
// install is a message saying how to add it, given before anything is sent.

import { openAsBlob } from "node:fs";
import { join } from "node:path";
import { TinkerError } from "../../client/errors.js";
import { HubAuthError, type HubToken } from "./hub-credentials.js";

type HubLibrary = typeof import("@huggingface/hub");

/** @huggingface/hub is not installed (exit 1). */
export class HubLibraryMissingError extends TinkerError {
  override name = "HubLibraryMissingError";
}

/** The Hub answered with an error, or could not be reached; `status` is undefined for the latter. */
export class HubRequestError extends TinkerError {
  override name = "HubRequestError";
  /** The Hub's HTTP status; undefined when no answer arrived. */
  readonly status: number | undefined;
  /** `message` says which step failed and why. */
  constructor(message: string, status: number | undefined, options?: { cause?: unknown }) {
    super(message, options);
    this.status = status;
  }
}

/** Loads @huggingface/hub, or explains how to install it. */
export async function loadHubLibrary(): Promise<HubLibrary> {
  try {
    return await import("@huggingface/hub");
  } catch (error) {
    throw new HubLibraryMissingError(
      "tinker checkpoint push-hf needs the @huggingface/hub package, which is optional: install it " +
        "beside tinker-ts with `npm install @huggingface/hub` (or `npm install -g @huggingface/hub` for a global tinker)",
      { cause: error },
    );
  }
}

/** What a finished upload reports. */
export interface UploadResult {
  /** The commit's page on the Hub. */
  commitUrl: string | undefined;
  /** The pull request's page, with --create-pr. */
  pullRequestUrl: string | undefined;
}

/** Options of one upload commit. */
export interface UploadOptions {
  /** The branch to commit to; main when undefined. */
  revision: string | undefined;
  /** Open a pull request instead of committing to the branch. */
  createPr: boolean;
  /** The commit's title. */
  commitMessage: string;
}

function statusOf(error: unknown): number | undefined {
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === "number" ? status : undefined;
}

/** The calls push-hf makes, bound to one token and Hub address. */
export class HubSession {
  constructor(
    private readonly hub: HubLibrary,
    private readonly token: HubToken,
    /** The Hub's base URL. */
    readonly hubUrl: string,
  ) {}

  private fail(step: string, error: unknown): never {
    const status = statusOf(error);
    const detail = error instanceof Error ? error.message : String(error);
    if (status === 401 || status === 403) {
      throw new HubAuthError(
        `${this.hubUrl} refused the Hugging Face token from ${this.token.source} while ${step} (${status}): ${detail}. ` +
          "Check that it is valid and has write access to the repo.",
        { cause: error },
      );
    }
    if (status === undefined) {
      throw new HubRequestError(
        `${step} failed: ${this.hubUrl} could not be reached (${detail}). Check the network, or HF_ENDPOINT if you set it.`,
        undefined,
        { cause: error },
      );
    }
    throw new HubRequestError(`${step} failed (${status}): ${detail}`, status, { cause: error });
  }

  private get auth() {
    return { accessToken: this.token.token, hubUrl: this.hubUrl };
  }

  /** The token owner's name (the namespace for repo ids given without one). */
  async whoami(): Promise<string> {
    try {
      const me = await this.hub.whoAmI(this.auth);
      return me.name;
    } catch (error) {
      return this.fail("checking the token (whoami)", error);
    }
  }

  /** Creates the model repo unless it exists (a 409, kept as it is). Returns whether it was created. */
  async ensureRepo(repoId: string, isPrivate: boolean): Promise<boolean> {
    try {
      await this.hub.createRepo({
        ...this.auth,
        repo: { type: "model", name: repoId },
        visibility: isPrivate ? "private" : "public",
      });
      return true;
    } catch (error) {
      if (statusOf(error) === 409) return false;
      return this.fail(`creating the repo ${repoId}`, error);
    }
  }

  /** Creates `branch` from main unless it exists (a 409). */
  async ensureBranch(repoId: string, branch: string): Promise<void> {
    try {
      await this.hub.createBranch({ ...this.auth, repo: { type: "model", name: repoId }, branch });
    } catch (error) {
      if (statusOf(error) === 409) return;
      this.fail(`creating the branch ${branch} in ${repoId}`, error);
    }
  }

  /** The repo's README.md at `revision`, or undefined when it has none or it cannot be read. */
  async readModelCard(repoId: string, revision: string | undefined): Promise<string | undefined> {
    try {
      const blob = await this.hub.downloadFile({
        ...this.auth,
        repo: { type: "model", name: repoId },
        path: "README.md",
        ...(revision ? { revision } : {}),
      });
      return blob ? await blob.text() : undefined;
    } catch {
      // As the Python CLI: an unreadable card is treated as none.
      return undefined;
    }
  }

  /** Uploads `files` (relative to `dir`) as one commit; large files go through LFS. */
  async upload(
    repoId: string,
    dir: string,
    files: readonly string[],
    options: UploadOptions,
  ): Promise<UploadResult> {
    try {
      const blobs = await Promise.all(
        files.map(async (path) => ({ path, content: await openAsBlob(join(dir, path)) })),
      );
      const result = await this.hub.uploadFiles({
        ...this.auth,
        repo: { type: "model", name: repoId },
        files: blobs,
        commitTitle: options.commitMessage,
        ...(options.revision ? { branch: options.revision } : {}),
        ...(options.createPr ? { isPullRequest: true } : {}),
        // Plain Git LFS transfers: every Hub accepts them, and they need no WebAssembly chunker.
        useXet: false,
      });
      return { commitUrl: result?.commit.url, pullRequestUrl: result?.pullRequestUrl };
    } catch (error) {
      return this.fail(`uploading to ${repoId}`, error);
    }
  }
}
