/**
 * Monthly returns as a year x month grid with each year's compounded total,
 * (1 + r1)(1 + r2)... - 1, over the months that have a return.
 */
export interface MonthlyReturnPoint {
  year: number;
  month: number;
  return: number | null;
}

export const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

export function monthlyGrid(points: readonly MonthlyReturnPoint[]): {
  years: string[];
  columns: string[];
  values: (number | null)[][];
} {
  const byYear = new Map<number, (number | null)[]>();
  for (const point of points) {
    if (point.month < 1 || point.month > 12) continue;
    const row = byYear.get(point.year) ?? Array<number | null>(12).fill(null);
    row[point.month - 1] = point.return;
    byYear.set(point.year, row);
  }
  const years = [...byYear.keys()].sort((a, b) => a - b);
  const values = years.map((year) => {
    const row = byYear.get(year) ?? [];
    const present = row.filter((value): value is number => value !== null && Number.isFinite(value));
    const total = present.length === 0 ? null : present.reduce((acc, r) => acc * (1 + r), 1) - 1;
    return [...row, total];
  });
  return { years: years.map(String), columns: [...MONTHS, "Year"], values };
}
