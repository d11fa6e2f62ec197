// Where each resolved value came from, for the start-up log and the import report.

export interface Reading<T> {
  value: T;
  /** The file and field it was read from, or why a default applies. */
  from: string;
}

/** Field name -> value as text and its source, in the order they were resolved. */
export type ReadFrom = Record<string, { value: string; from: string }>;

export function note<T>(readFrom: ReadFrom, field: string, reading: Reading<T>, show: (v: T) => string = String): T {
  readFrom[field] = { value: show(reading.value), from: reading.from };
  return reading.value;
}

/** Aligned lines, e.g. for a terminal: `  task        classification   config.json architectures [...]`. */
export function formatReadFrom(readFrom: ReadFrom, indent = '  '): string {
  const rows = Object.entries(readFrom);
  const w1 = Math.max(...rows.map(([k]) => k.length));
  const w2 = Math.min(40, Math.max(...rows.map(([, r]) => r.value.length)));
  return rows.map(([k, r]) => `${indent}${k.padEnd(w1)}  ${r.value.padEnd(w2)}  ${r.from}`).join('\n');
}
