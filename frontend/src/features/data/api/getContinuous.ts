import { queryOptions } from "@tanstack/react-query";
import { api, unwrap } from "../../../client/http";

const PAGE = 100_000; // the API's largest page

export function getContinuousPage(seriesId: string, offset: number) {
  return unwrap(
    api.GET("/api/v1/continuous/{series_id}", { params: { path: { series_id: seriesId }, query: { limit: PAGE, offset } } }),
  );
}

/**
 * The whole series: the first page carries the roll schedule, later pages only add bars, and
 * their columns are appended in place (minute series run to millions of bars).
 */
export async function getContinuous(seriesId: string) {
  const first = await getContinuousPage(seriesId, 0);
  const columns = first.series.columns;
  for (let offset = PAGE; offset < first.series.total; offset += PAGE) {
    const next = await getContinuousPage(seriesId, offset);
    for (const [name, values] of Object.entries(next.series.columns)) {
      const target = columns[name];
      if (target) for (const value of values) target.push(value);
    }
  }
  return first;
}

export const continuousQuery = (seriesId: string) =>
  queryOptions({ queryKey: ["continuous", "detail", seriesId], queryFn: () => getContinuous(seriesId), staleTime: Infinity });
