// The checkpoint archive endpoint (contract 3.3, row 22) and the signed download it points to.
// `GET …/archive` answers 302 + Location + Expires (or 200 {url, expires} in JSON mode), or 503
// while an archive is still "building" (`archiveBuildDelayMs`). The signed URL is served by this
// server at `/archives/<file name>.tar?token=<signed token>`, outside /api/v1, without an API key.
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { HttpError, notFound } from "../errors.js";
import { archiveFileName, buildCheckpointArchive } from "../store/archive.js";
import type { CheckpointRecord } from "../store/checkpoints.js";
import type { RouteContext } from "./context.js";
import type { UrlSigner } from "./signed-urls.js";
import { isoTime } from "./views.js";

export const ARCHIVE_DOWNLOAD_PREFIX = "/archives/";

/** The `token` query parameter of a signed URL ("" when absent, which fails verification). */
export function signedToken(value: unknown): string {
  return typeof value === "string" ? value : "";
}

/** The origin the client used to reach us, for absolute URLs. */
export function requestOrigin(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}`;
}

function wantsJson(request: FastifyRequest): boolean {
  const accept = request.headers.accept ?? "";
  return accept.split(",").some((part) => part.trim().toLowerCase().startsWith("application/json"));
}

export class ArchiveService {
  /** When each archive build "finishes", by checkpoint (a replaced checkpoint is a new build). */
  private readonly readyAt = new Map<string, number>();

  constructor(
    private readonly ctx: RouteContext,
    private readonly signer: UrlSigner,
  ) {}

  answerArchiveRequest(request: FastifyRequest, reply: FastifyReply, checkpoint: CheckpointRecord) {
    this.requireBuilt(checkpoint);
    const now = this.ctx.clock.now();
    // Whole seconds, so the Expires header (an HTTP-date) says exactly when the URL stops working.
    const expiresAt = Math.floor((now + this.ctx.options.rest.archiveUrlTtlSeconds * 1000) / 1000) * 1000;
    const token = this.signer.sign(
      { kind: "archive", runId: checkpoint.runId, checkpointId: checkpoint.checkpointId },
      expiresAt,
    );
    const fileName = archiveFileName(checkpoint.runId, checkpoint.checkpointId);
    const url = `${requestOrigin(request)}${ARCHIVE_DOWNLOAD_PREFIX}${encodeURIComponent(fileName)}?token=${token}`;
    const body = { url, expires: isoTime(expiresAt) };
    if (this.ctx.options.rest.archiveResponse === "json" && wantsJson(request)) return body;
    return reply
      .code(302)
      .header("location", url)
      .header("expires", new Date(expiresAt).toUTCString())
      .send(body);
  }

  register(app: FastifyInstance): void {
    // The file name in the path is for people and download tools; only the token counts.
    app.get<{ Querystring: { token?: unknown } }>(
      `${ARCHIVE_DOWNLOAD_PREFIX}*`,
      { config: { auth: false } },
      async (request, reply) => {
        const target = this.signer.verify(signedToken(request.query.token), "archive");
        if (target.kind !== "archive") throw new HttpError(403, "This signed URL is not for an archive");
        const checkpoint = this.ctx.store.checkpoints.get(target.runId, target.checkpointId);
        if (checkpoint === undefined) {
          throw notFound(`Checkpoint tinker://${target.runId}/${target.checkpointId} no longer exists`);
        }
        const tar = await buildCheckpointArchive(
          (fileName) => this.ctx.store.checkpoints.readFile(checkpoint, fileName),
          new Date(checkpoint.createdAt),
        );
        this.ctx.store.checkpoints.recordDownload(checkpoint);
        return reply
          .header("content-type", "application/x-tar")
          .header("content-length", String(tar.length))
          .header(
            "content-disposition",
            `attachment; filename="${archiveFileName(checkpoint.runId, checkpoint.checkpointId)}"`,
          )
          .send(tar);
      },
    );
  }

  /** 503 until the simulated build of this checkpoint's archive is done; the first ask starts it. */
  private requireBuilt(checkpoint: CheckpointRecord): void {
    const delay = this.ctx.options.rest.archiveBuildDelayMs;
    if (delay === 0) return;
    const key = `${checkpoint.runId}\n${checkpoint.checkpointId}\n${checkpoint.createdAt}`;
    const now = this.ctx.clock.now();
    let readyAt = this.readyAt.get(key);
    if (readyAt === undefined) {
      readyAt = now + delay;
      this.readyAt.set(key, readyAt);
    }
    if (now < readyAt) {
      const seconds = Math.max(1, Math.ceil((readyAt - now) / 1000));
      throw new HttpError(
        503,
        `Archive of ${checkpoint.tinkerPath} is still being built; retry in ${seconds} s`,
        {
          "retry-after": String(seconds),
        },
      );
    }
  }
}
