import { useEffect, useState } from "react";
import { QueryClientProvider, useQuery, useQueryClient } from "@tanstack/react-query";
import { BrowserRouter, Navigate, useLocation } from "react-router-dom";
import { setSessionLostHandler } from "../client/http";
import { ErrorNotice, Loading } from "../components/feedback";
import { meQuery, meQueryKey } from "../lib/session/getMe";
import { SessionProvider } from "../lib/session/SessionContext";
import { LoginPage } from "../features/auth/components/LoginPage";
import { createQueryClient } from "./queryClient";
import { Layout } from "./Layout";
import { AppRoutes } from "./routes";

function Gate() {
  const me = useQuery(meQuery());
  const location = useLocation();
  const queryClient = useQueryClient();
  useEffect(() => {
    setSessionLostHandler(() => queryClient.setQueryData(meQueryKey, null));
  }, [queryClient]);

  if (me.isPending) return <Loading label="Starting…" />;
  if (me.error) return <ErrorNotice error={me.error} title="The API did not answer" />;
  if (!me.data) {
    if (location.pathname !== "/login") return <Navigate to="/login" replace state={{ from: location.pathname + location.search }} />;
    return <LoginPage />;
  }
  if (location.pathname === "/login") return <Navigate to="/" replace />;
  return (
    <SessionProvider me={me.data}>
      <Layout>
        <AppRoutes />
      </Layout>
    </SessionProvider>
  );
}

export function App() {
  const [client] = useState(createQueryClient);
  return (
    <QueryClientProvider client={client}>
      <BrowserRouter>
        <Gate />
      </BrowserRouter>
    </QueryClientProvider>
  );
}
