import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { formatPrice, formatThirtySeconds, isoToMs, tickDecimals } from "../src/lib/format";

const ZB = { tick_size: 1 / 32, price_quote: "32nds" as const };
const ZN = { tick_size: 1 / 64, price_quote: "half_32nds" as const };
const ZF = { tick_size: 1 / 128, price_quote: "quarter_32nds" as const };
const ZT = { tick_size: 1 / 256, price_quote: "eighth_32nds" as const };

describe("Treasury prices in 32nds", () => {
  it("writes ZB in whole 32nds: 118 16/32 is 118-16", () => {
    expect(formatPrice(118.5, ZB)).toBe("118-16");
    expect(formatPrice(118 + 1 / 32, ZB)).toBe("118-01");
    expect(formatPrice(99 + 31 / 32, ZB)).toBe("99-31");
  });

  it("writes ZN half 32nds with a 5: 110 16.5/32 is 110-165", () => {
    expect(formatPrice(110 + 16.5 / 32, ZN)).toBe("110-165");
    expect(formatPrice(110 + 16 / 32, ZN)).toBe("110-160");
  });

  it("writes ZF quarter 32nds as 2, 5, 7", () => {
    expect(formatPrice(108 + 16.25 / 32, ZF)).toBe("108-162");
    expect(formatPrice(108 + 16.5 / 32, ZF)).toBe("108-165");
    expect(formatPrice(108 + 16.75 / 32, ZF)).toBe("108-167");
  });

  it("writes ZT eighth 32nds truncated to tenths: 7/8 is 8, 1/8 is 1, 5/8 is 6", () => {
    expect(formatPrice(102 + 31.875 / 32, ZT)).toBe("102-318");
    expect(formatPrice(102 + 0.125 / 32, ZT)).toBe("102-001");
    expect(formatPrice(102 + 10.625 / 32, ZT)).toBe("102-106");
  });

  it("rounds an off-grid price to the nearest quoted fraction and keeps the sign", () => {
    // 118.49 is 15.68/32: nearest whole 32nd is 16
    expect(formatPrice(118.49, ZB)).toBe("118-16");
    // a back-adjustment of -16 24/32
    expect(formatPrice(-16.75, ZB)).toBe("-16-24");
    expect(formatPrice(-0.0001, ZB)).toBe("0-00");
  });

  it("reads back to the price rounded to its fraction, for every quote (property)", () => {
    const subdivisions = fc.constantFrom(1, 2, 4, 8);
    fc.assert(
      fc.property(fc.double({ min: -500, max: 500, noNaN: true }), subdivisions, (price, sub) => {
        const text = formatThirtySeconds(price, sub);
        const match = /^(-?)(\d+)-(\d{2})(\d?)$/.exec(text);
        expect(match).not.toBeNull();
        const [, sign, points, thirtySeconds, digit] = match as unknown as string[];
        expect(Number(thirtySeconds)).toBeLessThan(32);
        // The third digit is floor(tenths); invert it to the nearest multiple of 1/sub.
        const fraction = digit ? Math.round((Number(digit) / 10) * sub + 0.49) / sub : 0;
        const value = (Number(points) + (Number(thirtySeconds) + fraction) / 32) * (sign ? -1 : 1);
        const expected = Math.round(Math.abs(price) * 32 * sub) / (32 * sub) * Math.sign(price);
        expect(value).toBeCloseTo(expected === 0 ? 0 : expected, 9);
      }),
    );
  });
});

describe("decimal prices", () => {
  it("shows as many decimals as the tick needs", () => {
    expect(tickDecimals(0.25)).toBe(2);
    expect(tickDecimals(0.01)).toBe(2);
    expect(tickDecimals(0.0005)).toBe(4);
    expect(tickDecimals(5e-7)).toBe(7);
    expect(tickDecimals(1)).toBe(0);
  });

  it("formats ES, CL, 6J and FDAX at their tick", () => {
    expect(formatPrice(4512.25, { tick_size: 0.25, price_quote: "decimal" })).toBe("4,512.25");
    expect(formatPrice(71.3, { tick_size: 0.01, price_quote: "decimal" })).toBe("71.30");
    expect(formatPrice(0.0065005, { tick_size: 5e-7, price_quote: "decimal" })).toBe("0.0065005");
    expect(formatPrice(18250, { tick_size: 1, price_quote: "decimal" })).toBe("18,250");
  });

  it("shows a dash for a missing price", () => {
    expect(formatPrice(null, ZB)).toBe("–");
    expect(formatPrice(Number.NaN, ZB)).toBe("–");
  });
});

describe("isoToMs", () => {
  it("reads the API's nanosecond stamps", () => {
    expect(isoToMs("2024-03-04T00:00:00.000000000Z")).toBe(Date.UTC(2024, 2, 4));
    expect(isoToMs("2024-03-04T13:30:05.123456789Z")).toBe(Date.UTC(2024, 2, 4, 13, 30, 5, 123));
    expect(isoToMs("2024-03-04")).toBe(Date.UTC(2024, 2, 4));
    expect(isoToMs("2015-01-02 00:00:00+00:00")).toBe(Date.UTC(2015, 0, 2));
    expect(Number.isNaN(isoToMs("yesterday"))).toBe(true);
  });
});

describe("percent and time", () => {
  it("never shows a negative zero", async () => {
    const { formatPercent } = await import("../src/lib/format");
    expect(formatPercent(-0.00001, 1)).toBe("0.0%");
    expect(formatPercent(-0.0123, 1)).toBe("-1.2%");
  });
  it("shows a daily bar's midnight stamp as its date", async () => {
    const { formatDateTime } = await import("../src/lib/format");
    expect(formatDateTime("2015-05-27T00:00:00+00:00")).toBe("2015-05-27");
    expect(formatDateTime("2015-05-27T14:30:00.000000000Z")).toBe("2015-05-27 14:30:00 UTC");
  });
});
