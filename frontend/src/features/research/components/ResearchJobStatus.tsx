import { useMutation, useQueryClient } from "@tanstack/react-query";
import { Can } from "../../../components/Can";
import { ErrorNotice } from "../../../components/feedback";
import { ProgressBar, StatusBadge } from "../../../components/StatusBadge";
import type { JobDetail } from "../../../client/types";
import { FINAL_STATES, useJobProgress } from "../../../lib/jobs/useJobProgress";
import { cancelResearchJob } from "../api/cancelResearchJob";

export function ResearchJobStatus({ job, kind }: { job: JobDetail; kind: "sweep" | "walkforward" }) {
  const queryClient = useQueryClient();
  const queryRoot = kind === "sweep" ? "sweeps" : "walkforward";
  const live = useJobProgress(job.id, job, () => void queryClient.invalidateQueries({ queryKey: [queryRoot] }));
  const cancel = useMutation({
    mutationFn: () => cancelResearchJob(kind, job.id),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: [queryRoot, "detail", job.id] }),
  });
  const running = !FINAL_STATES.includes(live.status);
  return (
    <section className="card" aria-label="status">
      <h2>
        Status <StatusBadge status={live.status} />
      </h2>
      {running ? <ProgressBar value={live.progress} label={live.message || live.status} /> : null}
      {job.error ? <pre className="notice notice-error wrap">{job.error}</pre> : null}
      {running ? (
        <Can permission="research.run">
          <button type="button" onClick={() => cancel.mutate()} disabled={cancel.isPending || job.cancel_requested}>
            Cancel
          </button>
          <ErrorNotice error={cancel.error} />
        </Can>
      ) : null}
    </section>
  );
}
