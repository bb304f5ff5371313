// JSON over fetch, same origin, cookies included. Every request carries the
// browser's time zone; a 401 outside the auth endpoints means the session has
// expired, which the app turns into a sign-in screen that brings the user back.

import { reportRequest } from "./live.js";

export const timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";

export class ApiError extends Error {
  constructor(status, body) {
    const detail = body?.error || {};
    super(detail.message || body?.detail || `Request failed (${status})`);
    this.status = status;
    this.code = detail.code;
    this.field = detail.field;
    this.retryAfter = detail.retry_after ?? null; // seconds (429)
    this.limit = detail.limit ?? null;
    this.resetsAt = detail.resets_at ?? null;
  }
}

let onUnauthorized = () => {};
export function setUnauthorizedHandler(fn) {
  onUnauthorized = fn;
}

export function headers(extra = {}) {
  return { "X-Timezone": timeZone, Accept: "application/json", ...extra };
}

/**
 * `request("POST", "/api/tasks", body)` → parsed JSON, or throws ApiError.
 * `contentType` sends `body` as it is (a File, Blob or string) with that type
 * instead of as JSON.
 */
export async function request(method, path, body, { signal, quietAuth = false, contentType = null } = {}) {
  const init = { method, headers: headers(), credentials: "same-origin", signal };
  if (body !== undefined && contentType) {
    init.headers["Content-Type"] = contentType;
    init.body = body;
  } else if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (err) {
    if (err.name !== "AbortError") reportRequest(false);
    throw err;
  }
  reportRequest(true);
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    const error = new ApiError(response.status, data);
    if (response.status === 401 && !quietAuth) onUnauthorized(error);
    throw error;
  }
  return data;
}

export const api = {
  get: (path, opts) => request("GET", path, undefined, opts),
  post: (path, body, opts) => request("POST", path, body ?? {}, opts),
  patch: (path, body, opts) => request("PATCH", path, body, opts),
  delete: (path, opts) => request("DELETE", path, opts?.body, opts),
  /** Sends bytes (a File or Blob) as they are: `api.upload(path, file, "text/csv")`. */
  upload: (path, body, contentType, opts) => request("POST", path, body, { ...opts, contentType }),
};
