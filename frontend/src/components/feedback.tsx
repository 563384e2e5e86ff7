import type { ReactNode } from "react";
import { ApiError, errorMessage } from "../client/problem";

export function Loading({ label = "Loading…" }: { label?: string }) {
  return (
    <p className="muted" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" /> {label}
    </p>
  );
}

export function EmptyState({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="empty">
      <p className="empty-title">{title}</p>
      {children}
    </div>
  );
}

/** An API failure where the user acted: the problem's `detail`, each field error, the request id. */
export function ErrorNotice({ error, title }: { error: unknown; title?: string }) {
  if (!error) return null;
  const problem = error instanceof ApiError ? error : null;
  return (
    <div className="notice notice-error" role="alert">
      {title ? <strong>{title}: </strong> : null}
      <span>{errorMessage(error)}</span>
      {problem && problem.errors.length > 0 ? (
        <ul>
          {problem.errors.map((field) => (
            <li key={`${field.location}:${field.message}`}>
              <code>{field.location}</code>: {field.message}
            </li>
          ))}
        </ul>
      ) : null}
      {problem?.requestId ? <small className="muted"> (request {problem.requestId})</small> : null}
    </div>
  );
}

/** Loading, error and empty handling around one query's data. */
export function QueryState<T>({
  query,
  isEmpty,
  empty,
  children,
}: {
  query: { data: T | undefined; error: unknown; isPending: boolean };
  isEmpty?: (data: T) => boolean;
  empty?: ReactNode;
  children: (data: T) => ReactNode;
}) {
  if (query.isPending) return <Loading />;
  if (query.error) return <ErrorNotice error={query.error} />;
  if (query.data === undefined) return null;
  if (isEmpty?.(query.data)) return <>{empty ?? <EmptyState title="Nothing here yet." />}</>;
  return <>{children(query.data)}</>;
}
