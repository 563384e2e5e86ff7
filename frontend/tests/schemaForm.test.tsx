import { describe, expect, it } from "vitest";
import { useState } from "react";
import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { SchemaForm } from "../src/components/SchemaForm";
import { fieldsFromSchema, initialValues, validateValues, type RawValues } from "../src/components/schemaForm";

// The shape pydantic writes for a template's parameters (a trimmed ma_crossover).
const schema = {
  type: "object",
  properties: {
    fast_window: { type: "integer", minimum: 1, maximum: 2000, default: 20, title: "Fast Window", description: "Bars in the fast moving average." },
    target_vol: { type: "number", exclusiveMinimum: 0, maximum: 1, default: 0.1, title: "Target Vol" },
    ma_kind: { type: "string", enum: ["sma", "ema"], default: "sma", title: "Ma Kind" },
    allow_short: { type: "boolean", default: true, title: "Allow Short" },
    average_correlation: { anyOf: [{ type: "number", minimum: -1, maximum: 1 }, { type: "null" }], default: null, title: "Average Correlation" },
  },
};

describe("fields from a parameter schema", () => {
  const fields = fieldsFromSchema(schema);

  it("reads kinds, bounds, defaults and nullability", () => {
    expect(fields.map((f) => [f.name, f.kind, f.nullable])).toEqual([
      ["fast_window", "integer", false],
      ["target_vol", "number", false],
      ["ma_kind", "enum", false],
      ["allow_short", "boolean", false],
      ["average_correlation", "number", true],
    ]);
    expect(fields[0]).toMatchObject({ minimum: 1, maximum: 2000, defaultValue: 20 });
    expect(fields[1]).toMatchObject({ exclusiveMinimum: 0 });
    expect(fields[4]).toMatchObject({ minimum: -1, maximum: 1 });
  });

  it("converts the defaults back to the same parameters", () => {
    const { values, errors } = validateValues(fields, initialValues(fields));
    expect(errors).toEqual({});
    expect(values).toEqual({ fast_window: 20, target_vol: 0.1, ma_kind: "sma", allow_short: true, average_correlation: null });
  });

  it("names each field that breaks its bounds", () => {
    const raw = { ...initialValues(fields), fast_window: "2.5", target_vol: "0", average_correlation: "1.5", ma_kind: "wma" };
    const { errors } = validateValues(fields, raw);
    expect(errors).toEqual({
      fast_window: "must be a whole number",
      target_vol: "must be greater than 0",
      average_correlation: "must be at most 1",
      ma_kind: "one of sma, ema",
    });
  });
});

function Harness() {
  const fields = fieldsFromSchema(schema);
  const [values, setValues] = useState<RawValues>(initialValues(fields));
  const { errors, values: params } = validateValues(fields, values);
  return (
    <>
      <SchemaForm fields={fields} values={values} errors={errors} onChange={setValues} idPrefix="t" />
      <output data-testid="params">{JSON.stringify(params)}</output>
    </>
  );
}

describe("SchemaForm", () => {
  it("labels every input and shows an error under the field typed wrong", async () => {
    const user = userEvent.setup();
    render(<Harness />);
    const fast = screen.getByLabelText("Fast Window");
    expect(fast).toHaveValue("20");
    expect(fast).toHaveAccessibleDescription("Bars in the fast moving average.");
    await user.clear(fast);
    await user.type(fast, "0");
    expect(fast).toHaveAttribute("aria-invalid", "true");
    expect(screen.getByText("must be at least 1")).toBeInTheDocument();
    await user.clear(fast);
    await user.type(fast, "50");
    await user.selectOptions(screen.getByLabelText("Ma Kind"), "ema");
    await user.click(screen.getByLabelText("Allow Short"));
    expect(JSON.parse(screen.getByTestId("params").textContent ?? "{}")).toMatchObject({
      fast_window: 50,
      ma_kind: "ema",
      allow_short: false,
    });
  });
});
