/**
 * A grid of coloured cells (monthly returns, a sweep's parameter grid). Colour diverges around
 * zero: green for gains, red for losses, its strength relative to the largest magnitude shown.
 * Each cell is a table cell with its value as text, so it reads without colour too.
 */
export interface HeatmapProps {
  caption: string;
  rowLabel: string;
  rows: readonly string[];
  columns: readonly string[];
  values: readonly (readonly (number | null)[])[];
  format: (value: number) => string;
}

/** Background for a value given the largest magnitude on the map. */
export function heatColor(value: number | null, maxAbs: number): string {
  if (value === null || !Number.isFinite(value) || maxAbs <= 0) return "transparent";
  const strength = Math.min(1, Math.abs(value) / maxAbs);
  const alpha = (0.12 + 0.68 * strength).toFixed(2);
  return value >= 0 ? `rgba(22, 163, 74, ${alpha})` : `rgba(220, 38, 38, ${alpha})`;
}

export function Heatmap({ caption, rowLabel, rows, columns, values, format }: HeatmapProps) {
  let maxAbs = 0;
  for (const row of values) for (const v of row) if (v !== null && Number.isFinite(v)) maxAbs = Math.max(maxAbs, Math.abs(v));
  return (
    <div className="table-wrap">
      <table className="heatmap">
        <caption>{caption}</caption>
        <thead>
          <tr>
            <th scope="col">{rowLabel}</th>
            {columns.map((column) => (
              <th key={column} scope="col">
                {column}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row, r) => (
            <tr key={row}>
              <th scope="row">{row}</th>
              {columns.map((column, c) => {
                const value = values[r]?.[c] ?? null;
                return (
                  <td key={column} style={{ background: heatColor(value, maxAbs) }} className="num">
                    {value === null ? "" : format(value)}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
