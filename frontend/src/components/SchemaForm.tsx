import type { FieldSpec, RawValues } from "./schemaForm";

/** Labelled inputs for the fields of a parameter schema; errors sit under their field. */
export function SchemaForm({
  fields,
  values,
  errors,
  onChange,
  idPrefix,
}: {
  fields: FieldSpec[];
  values: RawValues;
  errors: Record<string, string>;
  onChange: (values: RawValues) => void;
  idPrefix: string;
}) {
  const set = (name: string, value: string | boolean) => onChange({ ...values, [name]: value });
  return (
    <div className="form-grid">
      {fields.map((field) => {
        const id = `${idPrefix}-${field.name}`;
        const error = errors[field.name];
        const describedBy = [field.description ? `${id}-help` : "", error ? `${id}-error` : ""].filter(Boolean).join(" ");
        const common = {
          id,
          name: field.name,
          "aria-invalid": error ? true : undefined,
          "aria-describedby": describedBy || undefined,
        };
        let input;
        if (field.kind === "boolean") {
          input = (
            <input {...common} type="checkbox" checked={values[field.name] === true} onChange={(e) => set(field.name, e.target.checked)} />
          );
        } else if (field.kind === "enum") {
          input = (
            <select {...common} value={String(values[field.name] ?? "")} onChange={(e) => set(field.name, e.target.value)}>
              {field.nullable ? <option value="">(none)</option> : null}
              {field.options.map((option) => (
                <option key={option} value={option}>
                  {option}
                </option>
              ))}
            </select>
          );
        } else {
          input = (
            <input
              {...common}
              type="text"
              inputMode={field.kind === "string" ? "text" : "decimal"}
              placeholder={field.nullable ? "(none)" : undefined}
              value={String(values[field.name] ?? "")}
              onChange={(e) => set(field.name, e.target.value)}
            />
          );
        }
        return (
          <div className={`field${field.kind === "boolean" ? " field-check" : ""}`} key={field.name}>
            <label htmlFor={id}>{field.title}</label>
            {input}
            {field.description ? (
              <small id={`${id}-help`} className="muted">
                {field.description}
              </small>
            ) : null}
            {error ? (
              <small id={`${id}-error`} className="field-error">
                {error}
              </small>
            ) : null}
          </div>
        );
      })}
    </div>
  );
}
