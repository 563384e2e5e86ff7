/**
 * Number formatting for traders. Prices follow the contract's quote: decimals to the tick's
 * precision, US Treasuries in 32nds with the exchange's third digit for fractions of a 32nd
 * (ZN quotes half 32nds "110-165", ZF quarters "108-162", ZT eighths "102-318").
 */
import type { Schemas } from "../client/types";

export type PriceQuote = Schemas["MarketSummary"]["price_quote"];
export interface TickSpec {
  tick_size: number;
  price_quote: PriceQuote;
}

/** Parts of a 32nd each quote counts in (1 for whole 32nds). */
const SUBDIVISIONS: Record<string, number> = {
  "32nds": 1,
  half_32nds: 2,
  quarter_32nds: 4,
  eighth_32nds: 8,
};

/** Decimal places that show a tick size exactly (0.25 -> 2, 5e-7 -> 7, 1 -> 0). */
export function tickDecimals(tickSize: number): number {
  for (let places = 0; places <= 10; places += 1) {
    const scaled = tickSize * 10 ** places;
    if (Math.abs(scaled - Math.round(scaled)) < 1e-9 * Math.max(1, scaled)) return places;
  }
  return 10;
}

/** A price in 32nds: "118-16"; with a third digit for half/quarter/eighth 32nds. */
export function formatThirtySeconds(price: number, subdivisions: number): string {
  const perPoint = 32 * subdivisions;
  // Count whole units of the finest fraction first, so 0.1 binary error never shows.
  const units = Math.round(Math.abs(price) * perPoint);
  const points = Math.floor(units / perPoint);
  const remainder = units - points * perPoint;
  const thirtySeconds = Math.floor(remainder / subdivisions);
  const parts = remainder - thirtySeconds * subdivisions;
  const sign = price < 0 && units > 0 ? "-" : "";
  const head = `${sign}${points}-${String(thirtySeconds).padStart(2, "0")}`;
  if (subdivisions === 1) return head;
  // The exchange's third digit is the fraction of a 32nd truncated to tenths: 1/4 -> 2, 7/8 -> 8.
  return `${head}${Math.floor((parts / subdivisions) * 10)}`;
}

export function formatPrice(price: number | null | undefined, spec: TickSpec): string {
  if (price === null || price === undefined || !Number.isFinite(price)) return "–";
  const subdivisions = SUBDIVISIONS[spec.price_quote];
  if (subdivisions !== undefined) return formatThirtySeconds(price, subdivisions);
  const places = tickDecimals(spec.tick_size);
  return price.toLocaleString("en-US", {
    minimumFractionDigits: places,
    maximumFractionDigits: places,
  });
}

export function formatNumber(value: unknown, digits = 2): string {
  if (typeof value !== "number" || !Number.isFinite(value)) return value == null ? "–" : String(value);
  return value.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

export function formatPercent(value: number | null | undefined, digits = 2): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "–";
  const text = (value * 100).toFixed(digits);
  // -0.00001 rounds to "-0.0": a sign on zero reads as a loss that is not there.
  return `${Number(text) === 0 ? (0).toFixed(digits) : text}%`;
}

export function formatMoney(value: number | null | undefined, currency = "USD"): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "–";
  return value.toLocaleString("en-US", {
    style: "currency",
    currency,
    maximumFractionDigits: 0,
  });
}

/** ISO text or epoch milliseconds as YYYY-MM-DD (UTC: bars are stamped in UTC). */
export function formatDate(value: string | number | null | undefined): string {
  if (value === null || value === undefined || value === "") return "–";
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? String(value) : date.toISOString().slice(0, 10);
}

/** Date and UTC time; a bar stamped at midnight (daily data) shows as its date alone. */
export function formatDateTime(value: string | null | undefined): string {
  if (!value) return "–";
  const ms = isoToMs(value);
  if (Number.isNaN(ms)) return value;
  const iso = new Date(ms).toISOString();
  const time = iso.slice(11, 19);
  return time === "00:00:00" ? iso.slice(0, 10) : `${iso.slice(0, 10)} ${time} UTC`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
}

/**
 * Epoch milliseconds of an ISO 8601 UTC stamp; the API writes nanoseconds
 * ("2024-03-04T00:00:00.000000000Z"), which Date.parse does not promise to read.
 */
export function isoToMs(iso: string): number {
  const match = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2})?)(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/.exec(iso.trim());
  if (!match) return Number.NaN;
  const [, day, time = "00:00:00", fraction = "", zone = "Z"] = match;
  const millis = fraction ? fraction.slice(0, 4).padEnd(4, "0") : ".000";
  return Date.parse(`${day}T${time.length === 5 ? `${time}:00` : time}${millis}${zone}`);
}
