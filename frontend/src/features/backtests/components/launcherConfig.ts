/**
 * The launcher's form state and its translation into the API's BacktestSubmit. Blank optional
 * fields are left out so the server's defaults (the contract specification's margins and
 * fees) apply, rather than zeros the user never typed.
 */
import type { Schemas } from "../../../client/types";

export interface LauncherForm {
  name: string;
  markets: string[];
  start: string;
  end: string;
  strategy: string;
  capital: string;
  mode: "continuous" | "contracts";
  adjustment: "difference" | "ratio" | "none";
  commission: string;
  exchangeFee: string;
  slippageTicks: string;
  maxContracts: string;
  initialMargin: string;
  maintenanceMargin: string;
  marginCall: "liquidate_all" | "restore_initial";
  maxLeverage: string;
}

export const DEFAULT_FORM: LauncherForm = {
  name: "",
  markets: [],
  start: "",
  end: "",
  strategy: "",
  capital: "1000000",
  mode: "continuous",
  adjustment: "difference",
  commission: "",
  exchangeFee: "",
  slippageTicks: "0",
  maxContracts: "",
  initialMargin: "",
  maintenanceMargin: "",
  marginCall: "liquidate_all",
  maxLeverage: "",
};

type Errors = Partial<Record<keyof LauncherForm, string>>;

function optionalNumber(text: string, field: keyof LauncherForm, errors: Errors, min = 0): number | undefined {
  if (text.trim() === "") return undefined;
  const value = Number(text);
  if (!Number.isFinite(value)) errors[field] = "must be a number";
  else if (value < min) errors[field] = `must be at least ${min}`;
  return value;
}

export function buildSubmission(
  form: LauncherForm,
  params: Record<string, unknown>,
): { body?: Schemas["BacktestSubmit"]; errors: Errors } {
  const errors: Errors = {};
  if (form.markets.length === 0) errors.markets = "choose at least one market";
  if (!form.strategy) errors.strategy = "choose a strategy";
  if (form.start && form.end && form.start > form.end) errors.end = "must not be before the start";
  const capital = optionalNumber(form.capital, "capital", errors, 1);
  if (capital === undefined) errors.capital = "required";
  const perMarket = {
    commission: optionalNumber(form.commission, "commission", errors),
    exchange_fee: optionalNumber(form.exchangeFee, "exchangeFee", errors),
    max_contracts: optionalNumber(form.maxContracts, "maxContracts", errors, 1),
    initial_margin: optionalNumber(form.initialMargin, "initialMargin", errors),
    maintenance_margin: optionalNumber(form.maintenanceMargin, "maintenanceMargin", errors),
  };
  const slippage = optionalNumber(form.slippageTicks, "slippageTicks", errors) ?? 0;
  const maxLeverage = optionalNumber(form.maxLeverage, "maxLeverage", errors);
  if (Object.keys(errors).length > 0) return { errors };
  const defined = Object.fromEntries(Object.entries(perMarket).filter(([, v]) => v !== undefined));
  const config: Schemas["BacktestConfig"] = {
    name: form.name.trim() || "backtest",
    markets: form.markets.map((root) => ({ root, mode: form.mode, adjustment: form.adjustment, ...defined })),
    start: form.start || null,
    end: form.end || null,
    strategy: { name: form.strategy, params },
    simulation: {
      capital,
      slippage_ticks: slippage,
      contract_mode: form.mode,
      margin_call: { action: form.marginCall },
      ...(maxLeverage !== undefined ? { max_leverage: maxLeverage } : {}),
    },
  };
  return { body: { config, name: form.name.trim() || null }, errors };
}
