import { useEffect, useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useNavigate, useParams } from "react-router-dom";
import { Can } from "../../../components/Can";
import { ErrorNotice, QueryState } from "../../../components/feedback";
import { PageHeader } from "../../../components/PageHeader";
import { formatDateTime } from "../../../lib/format";
import { useCan } from "../../../lib/session/SessionContext";
import { deleteCustomStrategy } from "../api/deleteCustomStrategy";
import { customStrategyQuery } from "../api/getCustomStrategy";
import { updateCustomStrategy } from "../api/updateCustomStrategy";
import { CodeEditor } from "./CodeEditor";

export function CustomStrategyPage() {
  const { strategyId = "" } = useParams();
  const strategy = useQuery(customStrategyQuery(strategyId));
  const canCode = useCan("strategies.code");
  const [code, setCode] = useState("");
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  useEffect(() => {
    if (strategy.data) setCode(strategy.data.code);
  }, [strategy.data]);
  const save = useMutation({
    mutationFn: () => updateCustomStrategy(strategyId, { code }),
    onSuccess: (updated) => queryClient.setQueryData(customStrategyQuery(strategyId).queryKey, updated),
  });
  const remove = useMutation({
    mutationFn: () => deleteCustomStrategy(strategyId),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ["strategies", "custom"] });
      navigate("/strategies");
    },
  });
  return (
    <QueryState query={strategy}>
      {(s) => (
        <>
          <PageHeader
            title={s.name}
            actions={
              <Can permission="strategies.code">
                <button type="button" onClick={() => window.confirm(`Delete ${s.name}?`) && remove.mutate()}>
                  Delete
                </button>
              </Can>
            }
          >
            {s.description} · updated {formatDateTime(s.updated_at)} · use it as <code>custom:{s.id}</code>
          </PageHeader>
          <section className="card">
            <CodeEditor id="strategy-code" label="Code" value={code} onChange={setCode} readOnly={!canCode} />
            <ErrorNotice error={save.error ?? remove.error} />
            {save.isSuccess ? <p className="notice notice-ok" role="status">Saved.</p> : null}
            <Can permission="strategies.code">
              <button type="button" className="primary" disabled={save.isPending || code === s.code} onClick={() => save.mutate()}>
                Save
              </button>
            </Can>
          </section>
        </>
      )}
    </QueryState>
  );
}
