import { useMemo, useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useNavigate } from "react-router-dom";
import { RequirePermission } from "../../../components/Can";
import { ErrorNotice, Loading } from "../../../components/feedback";
import { PageHeader } from "../../../components/PageHeader";
import { SchemaForm } from "../../../components/SchemaForm";
import { fieldsFromSchema, initialValues, validateValues, type RawValues } from "../../../components/schemaForm";
import { marketsQuery } from "../api/listMarkets";
import { templatesQuery } from "../api/listTemplates";
import { customStrategiesQuery } from "../api/listCustomStrategies";
import { submitBacktest } from "../api/submitBacktest";
import { buildSubmission, DEFAULT_FORM, type LauncherForm } from "./launcherConfig";
import { MarketPicker } from "./MarketPicker";

export function LauncherPage() {
  return (
    <RequirePermission permission="backtests.run">
      <Launcher />
    </RequirePermission>
  );
}

function Launcher() {
  const [form, setForm] = useState<LauncherForm>(DEFAULT_FORM);
  const [params, setParams] = useState<RawValues>({});
  const [errors, setErrors] = useState<Partial<Record<keyof LauncherForm, string>>>({});
  const [paramErrors, setParamErrors] = useState<Record<string, string>>({});
  const markets = useQuery(marketsQuery());
  const templates = useQuery(templatesQuery());
  const custom = useQuery(customStrategiesQuery());
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const template = templates.data?.find((t) => t.name === form.strategy);
  const fields = useMemo(() => (template ? fieldsFromSchema(template.params_schema) : []), [template]);
  const submit = useMutation({
    mutationFn: submitBacktest,
    onSuccess: (job) => {
      void queryClient.invalidateQueries({ queryKey: ["backtests", "list"] });
      navigate(`/backtests/${job.id}`);
    },
  });

  const set = <K extends keyof LauncherForm>(key: K, value: LauncherForm[K]) => setForm((f) => ({ ...f, [key]: value }));
  const chooseStrategy = (name: string) => {
    set("strategy", name);
    const chosen = templates.data?.find((t) => t.name === name);
    setParams(chosen ? initialValues(fieldsFromSchema(chosen.params_schema)) : {});
    setParamErrors({});
  };

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    const checked = validateValues(fields, params);
    const built = buildSubmission(form, checked.values);
    setErrors(built.errors);
    setParamErrors(checked.errors);
    if (built.body && Object.keys(checked.errors).length === 0) submit.mutate(built.body);
  };

  const text = (key: keyof LauncherForm, label: string, hint?: string) => (
    <div className="field">
      <label htmlFor={`bt-${key}`}>{label}</label>
      <input
        id={`bt-${key}`}
        inputMode="decimal"
        value={String(form[key])}
        placeholder={hint}
        aria-invalid={errors[key] ? true : undefined}
        onChange={(e) => set(key, e.target.value as never)}
      />
      {errors[key] ? <small className="field-error">{errors[key]}</small> : null}
    </div>
  );

  if (markets.isPending || templates.isPending) return <Loading />;
  return (
    <>
      <PageHeader title="New backtest">Markets, period, strategy, costs, sizing and margin.</PageHeader>
      <ErrorNotice error={markets.error ?? templates.error} />
      <form onSubmit={onSubmit} className="launcher" noValidate>
        <fieldset className="card">
          <legend>Run</legend>
          <div className="form-grid">
            <div className="field">
              <label htmlFor="bt-name">Name</label>
              <input id="bt-name" value={form.name} onChange={(e) => set("name", e.target.value)} />
            </div>
            <div className="field">
              <label htmlFor="bt-start">Start</label>
              <input id="bt-start" type="date" value={form.start} onChange={(e) => set("start", e.target.value)} />
            </div>
            <div className="field">
              <label htmlFor="bt-end">End</label>
              <input id="bt-end" type="date" value={form.end} onChange={(e) => set("end", e.target.value)} />
              {errors.end ? <small className="field-error">{errors.end}</small> : null}
            </div>
          </div>
        </fieldset>
        <MarketPicker
          markets={markets.data?.items ?? []}
          selected={form.markets}
          onChange={(roots) => set("markets", roots)}
          error={errors.markets}
        />
        <fieldset className="card">
          <legend>Strategy</legend>
          <div className="field">
            <label htmlFor="bt-strategy">Strategy</label>
            <select id="bt-strategy" value={form.strategy} onChange={(e) => chooseStrategy(e.target.value)} aria-invalid={errors.strategy ? true : undefined}>
              <option value="">Choose…</option>
              {templates.data?.map((t) => (
                <option key={t.name} value={t.name}>
                  {t.title}
                </option>
              ))}
              {custom.data?.items.map((s) => (
                <option key={s.id} value={`custom:${s.id}`}>
                  Custom: {s.name}
                </option>
              ))}
            </select>
            {errors.strategy ? <small className="field-error">{errors.strategy}</small> : null}
            {template ? <small className="muted">{template.description}</small> : null}
          </div>
          {fields.length > 0 ? (
            <SchemaForm fields={fields} values={params} errors={paramErrors} onChange={setParams} idPrefix="param" />
          ) : null}
        </fieldset>
        <fieldset className="card">
          <legend>Costs and sizing</legend>
          <div className="form-grid">
            {text("capital", "Capital (account currency)")}
            {text("commission", "Commission per contract", "contract default")}
            {text("exchangeFee", "Exchange fee per contract", "contract default")}
            {text("slippageTicks", "Slippage (ticks)")}
            {text("maxContracts", "Max contracts per market", "no cap")}
            <div className="field">
              <label htmlFor="bt-mode">Prices</label>
              <select id="bt-mode" value={form.mode} onChange={(e) => set("mode", e.target.value as LauncherForm["mode"])}>
                <option value="continuous">Continuous series</option>
                <option value="contracts">Individual contracts (rolls traded)</option>
              </select>
            </div>
            <div className="field">
              <label htmlFor="bt-adjustment">Back-adjustment</label>
              <select id="bt-adjustment" value={form.adjustment} onChange={(e) => set("adjustment", e.target.value as LauncherForm["adjustment"])}>
                <option value="difference">Difference</option>
                <option value="ratio">Ratio</option>
                <option value="none">None</option>
              </select>
            </div>
          </div>
        </fieldset>
        <fieldset className="card">
          <legend>Margin</legend>
          <div className="form-grid">
            {text("initialMargin", "Initial margin per contract", "contract default")}
            {text("maintenanceMargin", "Maintenance margin per contract", "contract default")}
            {text("maxLeverage", "Max leverage", "none")}
            <div className="field">
              <label htmlFor="bt-margin-call">On a margin call</label>
              <select id="bt-margin-call" value={form.marginCall} onChange={(e) => set("marginCall", e.target.value as LauncherForm["marginCall"])}>
                <option value="liquidate_all">Liquidate everything</option>
                <option value="restore_initial">Reduce to initial margin</option>
              </select>
            </div>
          </div>
        </fieldset>
        <ErrorNotice error={submit.error} title="The backtest was not started" />
        <button type="submit" className="primary" disabled={submit.isPending}>
          {submit.isPending ? "Submitting…" : "Run backtest"}
        </button>
      </form>
    </>
  );
}
