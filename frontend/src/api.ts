// Typed client for the backend API (docs/api.md). Every call goes to the page's own origin
// under /api; the Vercel rewrite or `hubship frontend` forwards it to the backend.

import type { components } from "./api-types";

// The backend's answers, generated from its OpenAPI document (api-types.ts): never re-declared here.
type Answers = components["schemas"];
export type Scalar = string | number | boolean;
export type Ready = Answers["Ready"] | Answers["NotReady"];
export type Version = Answers["VersionInfo"]; // sha null: the bundled fallback, no Hub commit
export type PrimaryMetric = Answers["PrimaryMetric"];
export type InputSpec = Answers["InputSpec"];
export type ModelSummary = Answers["ModelSummary"];
export type ModelDetail = Answers["ModelDetail"];
export type Prediction = Answers["Classification"] | Answers["Regression"];
export type PredictAnswer = Answers["OnePrediction"];
export type FieldError = Answers["FieldError"];
export type Release = Answers["ReleaseRow"];

/** An answer that was not 2xx: the status and the backend's `detail`, when it sent one. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly detail: unknown,
    message: string,
  ) {
    super(message);
  }
}

/** The backend could not be reached at all (network error, or the proxy's 502/504). */
export class UnreachableError extends Error {}

/** What a 2xx answer must look like to be used; anything else is a misrouted /api. */
type Shape = (body: unknown) => boolean;
const isObject: Shape = (body) => typeof body === "object" && body !== null && !Array.isArray(body);
const isList: Shape = (body) => Array.isArray(body);
const hasKeys =
  (...keys: string[]): Shape =>
  (body) =>
    isObject(body) && keys.every((key) => key in (body as object));

const REWRITE_HINT =
  "check that /api reaches the backend: the /api/:path* rewrite in vercel.json must point at " +
  "the backend's URL (or pass --backend-url to hubship frontend)";

async function request<T>(path: string, shape: Shape, init?: RequestInit): Promise<T> {
  let response: Response;
  try {
    response = await fetch(`/api${path}`, {
      ...init,
      headers: { Accept: "application/json", ...(init?.headers ?? {}) },
    });
  } catch (err) {
    throw new UnreachableError(`the API did not answer (${String(err)})`);
  }
  const text = await response.text().catch(() => "");
  let body: unknown = null;
  let isJson = true;
  try {
    body = JSON.parse(text);
  } catch {
    isJson = false;
  }
  if (response.ok) {
    if (isJson && shape(body)) return body as T;
    const got = isJson ? "JSON of another shape" : `${response.headers.get("content-type") ?? "no content type"}, not JSON`;
    throw new ApiError(response.status, null, `/api${path} answered ${response.status} with ${got}; ${REWRITE_HINT}`);
  }
  const said = body as { detail?: unknown; reason?: unknown } | null;
  const detail = said?.detail ?? null;
  // a 503 of /ready or /version says `reason` (and /version which replica)
  const reason = typeof said?.reason === "string" ? said.reason : null;
  const message = typeof detail === "string" ? detail : (reason ?? `HTTP ${response.status}`);
  if (response.status === 502 || response.status === 504) throw new UnreachableError(message);
  throw new ApiError(response.status, detail ?? body, message);
}

/** GET /ready; a 503 is an answer here (not ready, with the reason), not an error. */
export async function getReady(): Promise<Ready> {
  try {
    return await request<Ready>("/ready", hasKeys("ready"));
  } catch (err) {
    if (err instanceof ApiError && err.status === 503) {
      const body = err.detail as { reason?: string } | string | null;
      const reason = typeof body === "string" ? body : body?.reason;
      return { ready: false, reason: reason ?? "the backend is starting" };
    }
    throw err;
  }
}

export const getVersion = () => request<Version>("/version", hasKeys("source", "repo_id", "loaded_at"));
export const getModels = () => request<ModelSummary[]>("/models", isList);
export const getModel = (name: string) =>
  request<ModelDetail>(`/models/${encodeURIComponent(name)}`, hasKeys("name", "inputs", "output"));
export const getReleases = () => request<Release[]>("/releases", isList);

export function predict(name: string, record: Record<string, Scalar | null>) {
  return request<PredictAnswer>(`/models/${encodeURIComponent(name)}/predict`, hasKeys("prediction"), {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(record),
  });
}
