/**
 * Time series on a canvas (lightweight-charts): it draws only what is on screen, so curves of
 * millions of points pan and zoom smoothly. Series arrive as parallel arrays of epoch
 * milliseconds and values, the API's column layout, and are converted once per change.
 */
import { useEffect, useRef } from "react";
import {
  AreaSeries,
  ColorType,
  createChart,
  createSeriesMarkers,
  LineSeries,
  type IChartApi,
  type LineData,
  type SeriesMarker,
  type Time,
  type UTCTimestamp,
} from "lightweight-charts";

export interface ChartSeries {
  name: string;
  ts: readonly number[];
  values: readonly (number | null)[];
  color: string;
  kind?: "line" | "area";
  /** Formats the price axis and crosshair label (tick-aware prices, percentages). */
  format?: (value: number) => string;
}

export interface ChartMarker {
  ts: number;
  text: string;
}

/**
 * Points for the chart: seconds, strictly increasing (the library refuses repeats), gaps left
 * out. A later point at the same second replaces the earlier one.
 */
export function toLineData(ts: readonly number[], values: readonly (number | null)[]): LineData<Time>[] {
  const out: LineData<Time>[] = [];
  let previous = -Infinity;
  for (let i = 0; i < ts.length; i += 1) {
    const value = values[i];
    const stamp = ts[i];
    if (value === null || value === undefined || !Number.isFinite(value) || stamp === undefined) continue;
    const time = Math.floor(stamp / 1000);
    if (time === previous) out[out.length - 1] = { time: time as UTCTimestamp, value };
    else if (time > previous) {
      out.push({ time: time as UTCTimestamp, value });
      previous = time;
    }
  }
  return out;
}

function cssVar(name: string, fallback: string): string {
  const value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return value || fallback;
}

export function TimeSeriesChart({
  series,
  markers = [],
  height = 280,
  label,
}: {
  series: ChartSeries[];
  markers?: ChartMarker[];
  height?: number;
  label: string;
}) {
  const container = useRef<HTMLDivElement>(null);
  const chartRef = useRef<IChartApi | null>(null);

  useEffect(() => {
    const element = container.current;
    if (!element) return undefined;
    const chart = createChart(element, {
      autoSize: true,
      height,
      layout: {
        background: { type: ColorType.Solid, color: "transparent" },
        textColor: cssVar("--fg-muted", "#667"),
        attributionLogo: false,
      },
      grid: {
        vertLines: { color: cssVar("--grid", "#e5e7eb") },
        horzLines: { color: cssVar("--grid", "#e5e7eb") },
      },
      timeScale: { timeVisible: false, borderVisible: false },
      rightPriceScale: { borderVisible: false },
    });
    chartRef.current = chart;
    series.forEach((item, index) => {
      const options = {
        color: item.color,
        lineWidth: 2 as const,
        title: item.name,
        priceFormat: item.format
          ? { type: "custom" as const, formatter: item.format, minMove: 1e-9 }
          : undefined,
      };
      const handle =
        item.kind === "area"
          ? chart.addSeries(AreaSeries, {
              ...options,
              lineColor: item.color,
              topColor: `${item.color}55`,
              bottomColor: `${item.color}08`,
            })
          : chart.addSeries(LineSeries, options);
      handle.setData(toLineData(item.ts, item.values));
      if (index === 0 && markers.length > 0) {
        const points: SeriesMarker<Time>[] = markers.map((marker) => ({
          time: Math.floor(marker.ts / 1000) as UTCTimestamp,
          position: "aboveBar",
          shape: "arrowDown",
          color: cssVar("--accent", "#2563eb"),
          text: marker.text,
        }));
        createSeriesMarkers(handle, points);
      }
    });
    chart.timeScale().fitContent();
    // autoSize learns the width a frame later; fit again then so the whole range shows.
    const frame = requestAnimationFrame(() => chart.timeScale().fitContent());
    return () => {
      cancelAnimationFrame(frame);
      chart.remove();
      chartRef.current = null;
    };
  }, [series, markers, height]);

  return <div ref={container} className="chart" style={{ height }} role="img" aria-label={label} />;
}
