/**
 * Dataset upload (POST /api/v1/datasets, multipart). XMLHttpRequest rather than fetch: only it
 * reports upload progress. The CSRF header is added as for every other state-changing call.
 */
import type { Schemas } from "../../../client/types";
import { CSRF_HEADER, csrfToken } from "../../../client/csrf";
import { ApiError, toApiError } from "../../../client/problem";

export type UploadResult = Schemas["UploadOut"];
type UploadForm = NonNullable<
  import("../../../client/schema").paths["/api/v1/datasets"]["post"]["requestBody"]
>["content"]["multipart/form-data"];

export interface UploadFields {
  dataset: string;
  kind?: UploadForm["kind"];
  root?: string;
  contract?: string;
  timezone?: string;
  time_format?: string;
  map?: string[];
}

export function uploadFormData(fields: UploadFields, file: File): FormData {
  const form = new FormData();
  for (const [key, value] of Object.entries(fields)) {
    if (Array.isArray(value)) value.forEach((item) => form.append(key, item));
    else if (value !== undefined && value !== "") form.append(key, String(value));
  }
  form.append("file", file, file.name);
  return form;
}

export function uploadDataset(
  fields: UploadFields,
  file: File,
  onProgress: (fraction: number) => void,
): Promise<UploadResult> {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open("POST", "/api/v1/datasets");
    request.withCredentials = true;
    const token = csrfToken();
    if (token) request.setRequestHeader(CSRF_HEADER, token);
    request.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    };
    request.onload = () => {
      let body: unknown = request.responseText;
      try {
        body = JSON.parse(request.responseText);
      } catch {
        // keep the text: a proxy's HTML error page still says something
      }
      if (request.status >= 200 && request.status < 300) resolve(body as UploadResult);
      else reject(toApiError(request.status, body));
    };
    request.onerror = () => reject(new ApiError(0, { title: "Network error", detail: "the upload did not reach the server" }));
    request.send(uploadFormData(fields, file));
  });
}
