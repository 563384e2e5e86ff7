import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Can } from "../../../components/Can";
import { ErrorNotice } from "../../../components/feedback";
import { ProgressBar, StatusBadge } from "../../../components/StatusBadge";
import type { JobDetail } from "../../../client/types";
import { FINAL_STATES, useJobProgress } from "../../../lib/jobs/useJobProgress";
import { cancelBacktest } from "../api/cancelBacktest";

/** Status and live progress over the WebSocket while the job runs; cancel for those allowed. */
export function JobStatusPanel({ job }: { job: JobDetail }) {
  const queryClient = useQueryClient();
  const live = useJobProgress(job.id, job, () => {
    void queryClient.invalidateQueries({ queryKey: ["backtests"] });
  });
  const cancel = useMutation({
    mutationFn: () => cancelBacktest(job.id),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["backtests", "detail", job.id] }),
  });
  const running = !FINAL_STATES.includes(live.status);
  return (
    <section className="card" aria-labelledby="job-status">
      <h2 id="job-status">
        Status <StatusBadge status={live.status} />
      </h2>
      {running ? <ProgressBar value={live.progress} label={live.message || live.status} /> : null}
      {live.error ? <p className="muted">{live.error}</p> : null}
      {job.error ? (
        <div className="notice notice-error" role="alert">
          <pre className="wrap">{job.error}</pre>
        </div>
      ) : null}
      {running ? (
        <Can permission="backtests.cancel">
          <button type="button" onClick={() => cancel.mutate()} disabled={cancel.isPending || job.cancel_requested}>
            {job.cancel_requested || cancel.isSuccess ? "Cancelling…" : "Cancel backtest"}
          </button>
          <ErrorNotice error={cancel.error} />
        </Can>
      ) : null}
    </section>
  );
}
