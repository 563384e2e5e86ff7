/** Short names for the generated schema types; nothing here is written by hand. */
import type { components } from "./schema";

export type Schemas = components["schemas"];
export type Me = Schemas["MeResponse"];
export type Role = Schemas["Role"];
export type JobOut = Schemas["JobOut"];
export type JobDetail = Schemas["JobDetail"];
export type JobStatus = Schemas["JobStatus"];
export type TableRows = Schemas["TableRows"];
export type MarketSummary = Schemas["MarketSummary"];
export type BacktestConfig = Schemas["BacktestConfig"];
