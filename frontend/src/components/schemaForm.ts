/**
 * Form fields from a strategy's parameter JSON schema (as pydantic writes it): numbers,
 * integers, booleans, enums, strings and their nullable `anyOf [X, null]` forms. Inputs are
 * kept as typed text and converted only on submit, so a half-typed "0." is not lost.
 */
export type FieldKind = "number" | "integer" | "boolean" | "enum" | "string";

export interface FieldSpec {
  name: string;
  title: string;
  description: string;
  kind: FieldKind;
  nullable: boolean;
  required: boolean;
  options: string[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  defaultValue: unknown;
}

export type RawValues = Record<string, string | boolean>;

interface JsonSchema {
  type?: string;
  title?: string;
  description?: string;
  enum?: unknown[];
  anyOf?: JsonSchema[];
  default?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  properties?: Record<string, JsonSchema>;
  required?: string[];
}

function kindOf(schema: JsonSchema): FieldKind {
  if (schema.enum) return "enum";
  if (schema.type === "integer" || schema.type === "number" || schema.type === "boolean") return schema.type;
  return "string";
}

export function fieldsFromSchema(schema: Record<string, unknown>): FieldSpec[] {
  const root = schema as JsonSchema;
  const required = new Set(root.required ?? []);
  return Object.entries(root.properties ?? {}).map(([name, property]) => {
    const variants = property.anyOf ?? [property];
    const concrete = variants.find((variant) => variant.type !== "null") ?? property;
    const nullable = variants.some((variant) => variant.type === "null");
    return {
      name,
      title: property.title ?? name,
      description: property.description ?? "",
      kind: kindOf(concrete),
      nullable,
      required: required.has(name),
      options: (concrete.enum ?? []).map(String),
      minimum: concrete.minimum,
      maximum: concrete.maximum,
      exclusiveMinimum: concrete.exclusiveMinimum,
      exclusiveMaximum: concrete.exclusiveMaximum,
      defaultValue: property.default,
    };
  });
}

export function initialValues(fields: FieldSpec[]): RawValues {
  const values: RawValues = {};
  for (const field of fields) {
    if (field.kind === "boolean") values[field.name] = field.defaultValue === true;
    else values[field.name] = field.defaultValue === null || field.defaultValue === undefined ? "" : String(field.defaultValue);
  }
  return values;
}

function checkBounds(field: FieldSpec, value: number): string | null {
  if (field.minimum !== undefined && value < field.minimum) return `must be at least ${field.minimum}`;
  if (field.maximum !== undefined && value > field.maximum) return `must be at most ${field.maximum}`;
  if (field.exclusiveMinimum !== undefined && value <= field.exclusiveMinimum)
    return `must be greater than ${field.exclusiveMinimum}`;
  if (field.exclusiveMaximum !== undefined && value >= field.exclusiveMaximum)
    return `must be less than ${field.exclusiveMaximum}`;
  return null;
}

function convert(field: FieldSpec, raw: string | boolean): { value?: unknown; error?: string } {
  if (field.kind === "boolean") return { value: raw === true };
  const text = String(raw).trim();
  if (text === "") {
    if (field.nullable) return { value: null };
    if (field.required) return { error: "required" };
    return {};
  }
  if (field.kind === "enum") {
    return field.options.includes(text) ? { value: text } : { error: `one of ${field.options.join(", ")}` };
  }
  if (field.kind === "string") return { value: text };
  const number = Number(text);
  if (!Number.isFinite(number)) return { error: "must be a number" };
  if (field.kind === "integer" && !Number.isInteger(number)) return { error: "must be a whole number" };
  const bound = checkBounds(field, number);
  return bound ? { error: bound } : { value: number };
}

/** The parameters to send, or an error message per field. Fields left blank are omitted. */
export function validateValues(
  fields: FieldSpec[],
  raw: RawValues,
): { values: Record<string, unknown>; errors: Record<string, string> } {
  const values: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  for (const field of fields) {
    const outcome = convert(field, raw[field.name] ?? "");
    if (outcome.error) errors[field.name] = outcome.error;
    else if ("value" in outcome) values[field.name] = outcome.value;
  }
  return { values, errors };
}
