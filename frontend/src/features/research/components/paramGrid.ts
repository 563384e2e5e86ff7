/**
 * A sweep's trials on a grid of two parameters. When other parameters vary too, several trials
 * share a cell; the cell shows the best objective among them (what the optimiser would pick).
 */
export type Trial = Record<string, unknown>;

/** Parameters that take more than one value across the trials (the swept ones). */
export function sweptParameters(trials: Trial[], candidates: string[]): string[] {
  return candidates.filter((key) => new Set(trials.map((t) => JSON.stringify(t[key]))).size > 1);
}

function ordered(values: unknown[]): unknown[] {
  const unique = [...new Map(values.map((v) => [JSON.stringify(v), v])).values()];
  return unique.sort((a, b) => (typeof a === "number" && typeof b === "number" ? a - b : String(a).localeCompare(String(b))));
}

export function paramGrid(
  trials: Trial[],
  rowKey: string,
  columnKey: string,
  metric: string,
  higherIsBetter = true,
): { rows: string[]; columns: string[]; values: (number | null)[][] } {
  const rowValues = ordered(trials.map((t) => t[rowKey]));
  const columnValues = ordered(trials.map((t) => t[columnKey]));
  const rowIndex = new Map(rowValues.map((v, i) => [JSON.stringify(v), i]));
  const columnIndex = new Map(columnValues.map((v, i) => [JSON.stringify(v), i]));
  const values: (number | null)[][] = rowValues.map(() => columnValues.map(() => null));
  for (const trial of trials) {
    const r = rowIndex.get(JSON.stringify(trial[rowKey]));
    const c = columnIndex.get(JSON.stringify(trial[columnKey]));
    const value = trial[metric];
    if (r === undefined || c === undefined || typeof value !== "number" || !Number.isFinite(value)) continue;
    const row = values[r];
    if (!row) continue;
    const current = row[c] ?? null;
    if (current === null || (higherIsBetter ? value > current : value < current)) row[c] = value;
  }
  return { rows: rowValues.map(String), columns: columnValues.map(String), values };
}
