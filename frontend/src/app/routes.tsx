import { lazy, Suspense } from "react";
import { Route, Routes } from "react-router-dom";
import { EmptyState, Loading } from "../components/feedback";

// Each screen is its own chunk, loaded on first visit: the login page does not wait for charts.
const SecurityPage = lazy(() => import("../features/auth/components/SecurityPage").then((module) => ({ default: module.SecurityPage })));
const BacktestListPage = lazy(() => import("../features/backtests/components/BacktestListPage").then((module) => ({ default: module.BacktestListPage })));
const ComparePage = lazy(() => import("../features/backtests/components/ComparePage").then((module) => ({ default: module.ComparePage })));
const LauncherPage = lazy(() => import("../features/backtests/components/LauncherPage").then((module) => ({ default: module.LauncherPage })));
const ResultsPage = lazy(() => import("../features/backtests/components/ResultsPage").then((module) => ({ default: module.ResultsPage })));
const DashboardPage = lazy(() => import("../features/dashboard/components/DashboardPage").then((module) => ({ default: module.DashboardPage })));
const DataPage = lazy(() => import("../features/data/components/DataPage").then((module) => ({ default: module.DataPage })));
const DatasetPage = lazy(() => import("../features/data/components/DatasetPage").then((module) => ({ default: module.DatasetPage })));
const ContinuousPage = lazy(() => import("../features/data/components/ContinuousPage").then((module) => ({ default: module.ContinuousPage })));
const MarketPage = lazy(() => import("../features/data/components/MarketPage").then((module) => ({ default: module.MarketPage })));
const UploadPage = lazy(() => import("../features/data/components/UploadPage").then((module) => ({ default: module.UploadPage })));
const StrategiesPage = lazy(() => import("../features/strategies/components/StrategiesPage").then((module) => ({ default: module.StrategiesPage })));
const CustomStrategyPage = lazy(() => import("../features/strategies/components/CustomStrategyPage").then((module) => ({ default: module.CustomStrategyPage })));
const ResearchPage = lazy(() => import("../features/research/components/ResearchPage").then((module) => ({ default: module.ResearchPage })));
const SweepPage = lazy(() => import("../features/research/components/SweepPage").then((module) => ({ default: module.SweepPage })));
const WalkForwardPage = lazy(() => import("../features/research/components/WalkForwardPage").then((module) => ({ default: module.WalkForwardPage })));
const AuditPage = lazy(() => import("../features/audit/components/AuditPage").then((module) => ({ default: module.AuditPage })));
const UsersPage = lazy(() => import("../features/users/components/UsersPage").then((module) => ({ default: module.UsersPage })));

export function AppRoutes() {
  return (
    <Suspense fallback={<Loading />}>
      <Routes>
        <Route path="/" element={<DashboardPage />} />
        <Route path="/account/security" element={<SecurityPage />} />
        <Route path="/data" element={<DataPage />} />
        <Route path="/data/upload" element={<UploadPage />} />
        <Route path="/data/dataset" element={<DatasetPage />} />
        <Route path="/data/markets/:root" element={<MarketPage />} />
        <Route path="/data/continuous/:seriesId" element={<ContinuousPage />} />
        <Route path="/strategies" element={<StrategiesPage />} />
        <Route path="/strategies/custom/:strategyId" element={<CustomStrategyPage />} />
        <Route path="/backtests" element={<BacktestListPage />} />
        <Route path="/backtests/new" element={<LauncherPage />} />
        <Route path="/backtests/:jobId" element={<ResultsPage />} />
        <Route path="/compare" element={<ComparePage />} />
        <Route path="/research" element={<ResearchPage />} />
        <Route path="/research/sweeps/:jobId" element={<SweepPage />} />
        <Route path="/research/walkforward/:jobId" element={<WalkForwardPage />} />
        <Route path="/audit" element={<AuditPage />} />
        <Route path="/users" element={<UsersPage />} />
        <Route path="*" element={<EmptyState title="No such page." />} />
      </Routes>
    </Suspense>
  );
}
