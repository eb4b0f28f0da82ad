// Checkpoint archives: an uncompressed tar holding the adapter files of one checkpoint, the layout
// `tinker checkpoint download` and PEFT loaders expect. The optimizer state stays server-side.
import { pack } from "tar-stream";

export const ARCHIVE_FILES = ["adapter_config.json", "adapter_model.safetensors"] as const;

/**
 * The tar bytes of a checkpoint, its files read through `readFile` (the store's checked read:
 * CheckpointFileMissingError or CheckpointDamagedError stop it before any bytes are produced).
 */
export async function buildCheckpointArchive(
  readFile: (fileName: string) => Uint8Array,
  mtime: Date,
): Promise<Buffer> {
  // Read everything first so a missing or damaged file fails before any bytes are produced.
  const entries = ARCHIVE_FILES.map((name) => ({ name, bytes: readFile(name) }));
  const archive = pack();
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    archive.on("data", (chunk: Buffer) => chunks.push(chunk));
    archive.on("end", () => resolve(Buffer.concat(chunks)));
    archive.on("error", reject);
  });
  for (const entry of entries) {
    archive.entry(
      { name: entry.name, size: entry.bytes.byteLength, mode: 0o644, mtime },
      Buffer.from(entry.bytes),
    );
  }
  archive.finalize();
  return done;
}

/** A file name for the download: `<run id>_<kind>_<name>.tar`, with unsafe characters replaced. */
export function archiveFileName(runId: string, checkpointId: string): string {
  return `${runId}_${checkpointId.replace("/", "_")}.tar`.replace(/[^\w.:-]/g, "_").replace(/:/g, "-");
}
