/**
 * Live progress of a job over the WebSocket /api/v1/ws/jobs/{id}. The server sends the state at
 * once, progress while running and closes after the final status; the same-origin session
 * cookie authenticates it, so no token ever sits in script-readable storage.
 */
import { useEffect, useRef, useState } from "react";

export type JobState = "queued" | "running" | "succeeded" | "failed" | "cancelled";
export const FINAL_STATES: readonly string[] = ["succeeded", "failed", "cancelled"];

export interface JobProgress {
  status: string;
  progress: number;
  message: string;
  connected: boolean;
  error: string | null;
}

interface JobEvent {
  type?: string;
  status?: string;
  progress?: number;
  message?: string;
}

export function jobSocketUrl(jobId: string, location: Location = window.location): string {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/api/v1/ws/jobs/${encodeURIComponent(jobId)}`;
}

const CLOSE_REASONS: Record<number, string> = {
  4401: "not signed in: the progress feed was refused",
  4404: "no such job",
};

export function useJobProgress(
  jobId: string | undefined,
  initial: { status: string; progress: number; message: string } | undefined,
  onFinal?: (status: string) => void,
): JobProgress {
  const [state, setState] = useState<JobProgress>({
    status: initial?.status ?? "queued",
    progress: initial?.progress ?? 0,
    message: initial?.message ?? "",
    connected: false,
    error: null,
  });
  const finalRef = useRef(onFinal);
  finalRef.current = onFinal;
  const initialStatus = initial?.status;

  useEffect(() => {
    if (!jobId || (initialStatus && FINAL_STATES.includes(initialStatus))) return undefined;
    const socket = new WebSocket(jobSocketUrl(jobId));
    socket.onopen = () => setState((s) => ({ ...s, connected: true, error: null }));
    socket.onmessage = (message: MessageEvent<string>) => {
      const event = JSON.parse(message.data) as JobEvent;
      setState((s) => ({
        ...s,
        status: event.status ?? s.status,
        progress: typeof event.progress === "number" ? event.progress : s.progress,
        message: event.message ?? s.message,
      }));
      if (event.status && FINAL_STATES.includes(event.status)) finalRef.current?.(event.status);
    };
    socket.onclose = (event: CloseEvent) => {
      const reason = CLOSE_REASONS[event.code] ?? null;
      setState((s) => ({ ...s, connected: false, error: reason }));
    };
    return () => socket.close();
  }, [jobId, initialStatus]);

  useEffect(() => {
    if (!initial) return;
    setState((s) =>
      FINAL_STATES.includes(s.status) ? s : { ...s, ...initial, connected: s.connected },
    );
    // Only a new final state from a refetch matters; progress comes over the socket.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [initial?.status]);

  return state;
}
