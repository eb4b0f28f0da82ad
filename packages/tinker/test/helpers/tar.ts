// A tiny ustar writer for tests, independent of the tar library the SDK reads with, so tests can
// build exactly the archives they need (hostile names, links, cut-off data) byte by byte.

export interface TarEntry {
  name: string;
  type?: "file" | "directory" | "symlink" | "link" | "fifo";
  data?: Uint8Array | string;
  linkname?: string;
  mode?: number;
}

const TYPEFLAG = { file: "0", link: "1", symlink: "2", directory: "5", fifo: "6" } as const;

function putString(block: Uint8Array, offset: number, length: number, text: string): void {
  const bytes = new TextEncoder().encode(text);
  if (bytes.length > length) throw new Error(`tar helper: '${text}' does not fit in ${length} bytes`);
  block.set(bytes, offset);
}

function putOctal(block: Uint8Array, offset: number, length: number, value: number): void {
  putString(block, offset, length, `${value.toString(8).padStart(length - 1, "0")}\0`);
}

function header(entry: TarEntry, size: number): Uint8Array {
  const block = new Uint8Array(512);
  putString(block, 0, 100, entry.name);
  putOctal(block, 100, 8, entry.mode ?? (entry.type === "directory" ? 0o755 : 0o644));
  putOctal(block, 108, 8, 0);
  putOctal(block, 116, 8, 0);
  putOctal(block, 124, 12, size);
  putOctal(block, 136, 12, 1_700_000_000);
  putString(block, 148, 8, "        ");
  putString(block, 156, 1, TYPEFLAG[entry.type ?? "file"]);
  putString(block, 157, 100, entry.linkname ?? "");
  putString(block, 257, 6, "ustar\0");
  putString(block, 263, 2, "00");
  let sum = 0;
  for (const b of block) sum += b;
  putString(block, 148, 8, `${sum.toString(8).padStart(6, "0")}\0 `);
  return block;
}

/** A ustar archive; `end: false` leaves out the two zero blocks of the end marker. */
export function makeTar(entries: TarEntry[], options: { end?: boolean } = {}): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const entry of entries) {
    const data =
      typeof entry.data === "string"
        ? new TextEncoder().encode(entry.data)
        : (entry.data ?? new Uint8Array());
    const size = entry.type === undefined || entry.type === "file" ? data.length : 0;
    parts.push(header(entry, size));
    if (size > 0) {
      const padded = new Uint8Array(Math.ceil(size / 512) * 512);
      padded.set(data);
      parts.push(padded);
    }
  }
  if (options.end ?? true) parts.push(new Uint8Array(1024));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
