import { useMemo, useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useNavigate } from "react-router-dom";
import { Can } from "../../../components/Can";
import { DataTable } from "../../../components/DataTable";
import { ErrorNotice, QueryState } from "../../../components/feedback";
import { PageHeader } from "../../../components/PageHeader";
import { SchemaForm } from "../../../components/SchemaForm";
import { fieldsFromSchema, initialValues, validateValues, type RawValues } from "../../../components/schemaForm";
import type { Schemas } from "../../../client/types";
import { formatDateTime } from "../../../lib/format";
import { createCustomStrategy } from "../api/createCustomStrategy";
import { customStrategiesQuery } from "../api/listCustomStrategies";
import { templatesQuery } from "../api/listTemplates";
import { CodeEditor } from "./CodeEditor";

export const STARTER_CODE = `def targets(bars, params):
    # +1 contract long after a 20-bar rise, -1 short after a fall; NaN keeps the position.
    past = np.roll(bars.close, 20, axis=0)
    past[:20] = np.nan
    return np.sign(bars.close - past)
`;

export function StrategiesPage() {
  const templates = useQuery(templatesQuery());
  const custom = useQuery(customStrategiesQuery());
  return (
    <>
      <PageHeader title="Strategies">Templates with their parameters, and custom code.</PageHeader>
      <QueryState query={templates}>
        {(list) => (
          <div className="grid-2">
            {list.map((template) => (
              <TemplateCard key={template.name} template={template} />
            ))}
          </div>
        )}
      </QueryState>
      <section className="card" aria-labelledby="custom-title">
        <h2 id="custom-title">Custom strategies</h2>
        <QueryState query={custom}>
          {(page) => (
            <DataTable
              caption="custom strategies"
              rows={page.items}
              rowKey={(s) => s.id}
              empty="No custom strategies yet."
              columns={[
                { key: "name", header: "Name", render: (s) => <Link to={`/strategies/custom/${s.id}`}>{s.name}</Link> },
                { key: "description", header: "Description" },
                { key: "code_hash", header: "Code", render: (s) => <code>{s.code_hash.slice(0, 12)}</code> },
                { key: "updated_at", header: "Updated", render: (s) => formatDateTime(s.updated_at) },
              ]}
            />
          )}
        </QueryState>
      </section>
      <Can permission="strategies.code">
        <NewCustomStrategy />
      </Can>
    </>
  );
}

/** A template's parameter form, generated from its JSON schema and checked against it. */
function TemplateCard({ template }: { template: Schemas["TemplateOut"] }) {
  const fields = useMemo(() => fieldsFromSchema(template.params_schema), [template]);
  const [values, setValues] = useState<RawValues>(() => initialValues(fields));
  const checked = validateValues(fields, values);
  return (
    <section className="card" aria-labelledby={`tpl-${template.name}`}>
      <h2 id={`tpl-${template.name}`}>{template.title}</h2>
      <p className="muted">{template.description}</p>
      <details>
        <summary>Parameters ({fields.length})</summary>
        <SchemaForm fields={fields} values={values} errors={checked.errors} onChange={setValues} idPrefix={template.name} />
        <pre className="wrap muted">{JSON.stringify({ name: template.name, params: checked.values }, null, 1)}</pre>
      </details>
    </section>
  );
}

function NewCustomStrategy() {
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [code, setCode] = useState(STARTER_CODE);
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const create = useMutation({
    mutationFn: createCustomStrategy,
    onSuccess: (strategy) => {
      void queryClient.invalidateQueries({ queryKey: ["strategies", "custom"] });
      navigate(`/strategies/custom/${strategy.id}`);
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate({ name, description, code });
  };
  return (
    <form className="card" onSubmit={submit} aria-labelledby="new-custom">
      <h2 id="new-custom">New custom strategy</h2>
      <div className="form-grid">
        <div className="field">
          <label htmlFor="cs-name">Name</label>
          <input id="cs-name" required value={name} onChange={(e) => setName(e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="cs-description">Description</label>
          <input id="cs-description" value={description} onChange={(e) => setDescription(e.target.value)} />
        </div>
      </div>
      <CodeEditor id="cs-code" label="Code" value={code} onChange={setCode} />
      <ErrorNotice error={create.error} />
      <button type="submit" className="primary" disabled={create.isPending}>
        Save strategy
      </button>
    </form>
  );
}
