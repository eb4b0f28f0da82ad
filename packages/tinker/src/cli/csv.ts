// CSV as Python's csv module writes it by default (the Python CLI's --csv files): a header row, a
// field quoted only when it holds a comma, a quote or a line break (quotes doubled), rows ended by
// CRLF. Small enough that a dependency would be more code to audit than this.

function field(value: unknown): string {
  if (value === null || value === undefined) return "";
  const text = typeof value === "object" ? JSON.stringify(value) : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** Column order: the first row's keys, then keys only later rows have (as the Python CLI). */
export function csvColumns(rows: readonly Record<string, unknown>[]): string[] {
  const columns: string[] = [];
  for (const row of rows) for (const key of Object.keys(row)) if (!columns.includes(key)) columns.push(key);
  return columns;
}

export function toCsv(rows: readonly Record<string, unknown>[]): string {
  const columns = csvColumns(rows);
  const lines = [columns.map(field).join(",")];
  for (const row of rows) lines.push(columns.map((c) => field(row[c])).join(","));
  return `${lines.join("\r\n")}\r\n`;
}
