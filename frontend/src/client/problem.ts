/**
 * Errors from the API are RFC 9457 problem details; the UI shows `detail` (and each field
 * error) where the user acted, so the message has to survive as data, not as a string.
 */
export interface FieldError {
  location: string;
  message: string;
}

export class ApiError extends Error {
  readonly status: number;
  readonly title: string;
  readonly detail: string;
  readonly errors: FieldError[];
  readonly requestId: string | null;
  /** Extra members of the problem (an upload refused with its validation `report`, ...). */
  readonly body: Record<string, unknown>;

  constructor(status: number, body: Record<string, unknown>) {
    const title = typeof body.title === "string" ? body.title : `HTTP ${status}`;
    const detail = describeDetail(body.detail) ?? title;
    super(detail);
    this.name = "ApiError";
    this.status = status;
    this.title = title;
    this.detail = detail;
    this.errors = Array.isArray(body.errors) ? body.errors.filter(isFieldError) : [];
    this.requestId = typeof body.request_id === "string" ? body.request_id : null;
    this.body = body;
  }
}

function isFieldError(value: unknown): value is FieldError {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof (value as FieldError).location === "string" &&
    typeof (value as FieldError).message === "string"
  );
}

/** `detail` is a string in problem documents; FastAPI's own 422 uses a list of objects. */
function describeDetail(detail: unknown): string | null {
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) {
    return detail
      .map((item: { loc?: unknown[]; msg?: string }) =>
        [item.loc?.join("."), item.msg].filter(Boolean).join(": "),
      )
      .join("; ");
  }
  return null;
}

/** Turns any body a failed response carried into an ApiError. */
export function toApiError(status: number, body: unknown): ApiError {
  if (typeof body === "object" && body !== null) {
    return new ApiError(status, body as Record<string, unknown>);
  }
  const text = typeof body === "string" && body.trim() ? body.trim().slice(0, 300) : undefined;
  return new ApiError(status, { title: `HTTP ${status}`, detail: text });
}

/** What to tell the user about any thrown value. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.detail;
  if (error instanceof Error) return error.message;
  return String(error);
}
