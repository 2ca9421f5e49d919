// Typed client for the backend API (docs/api.md). Every call goes to the page's own origin
// under /api; the Vercel rewrite or `hubship frontend` forwards it to the backend.

export type Scalar = string | number | boolean;

export interface Ready {
  ready: boolean;
  sha?: string;
  reason?: string;
}

export interface Version {
  sha: string | null; // null for the bundled fallback: it is no Hub commit
  tag: string | null;
  release: number | null;
  source: "hub" | "cache" | "bundled";
  loaded_at: string;
  revision: string;
  repo_id: string;
  commit_url: string | null;
  created_at: string;
  source_commit: string | null;
  source_dirty: boolean | null; // trained from uncommitted changes: shown as <sha>+dirty
  verified: boolean; // its signature checked out against the backend's HUBSHIP_VERIFY_KEY
}

export interface PrimaryMetric {
  name: string;
  higher_is_better: boolean;
  tolerance: number;
}

export interface InputSpec {
  name: string;
  type: "number" | "integer" | "category" | "boolean" | "text";
  nullable: boolean;
  min: number | null; // the training range: outside it, a prediction with a warning
  max: number | null;
  values: Scalar[] | null;
  limit_min?: number | null; // declared hard limits (hubship/2)
  limit_max?: number | null;
  accepts_unknown?: boolean;
  max_length?: number | null;
}

export interface ModelSummary {
  name: string;
  task: "classification" | "regression";
  estimator: string;
  metrics: Record<string, number>;
  primary_metric: PrimaryMetric;
}

export interface ModelDetail extends ModelSummary {
  inputs: InputSpec[];
  output: { target: string; classes: Scalar[] | null; unit: string | null };
  example?: Record<string, Scalar | null> | null; // training medians and modes (hubship/2)
}

export type Prediction =
  | { label: Scalar; probabilities?: Record<string, number> | null }
  | { value: number; unit: string | null };

export interface PredictAnswer {
  model: string;
  sha: string;
  release: number | null;
  prediction: Prediction;
  warnings?: string[]; // values outside what the model was trained on
}

export interface FieldError {
  loc: (string | number)[];
  msg: string;
  type?: string;
}

export interface Release {
  release: number | null;
  tag: string | null;
  sha: string;
  date: string;
  title: string | null;
  source_commit: string | null;
  source_dirty: boolean | null;
  forced: boolean;
  restores: string | null;
  metrics: Record<string, Record<string, number>>;
  primary: Record<string, { name: string; value: number; higher_is_better: boolean }>;
}

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
  const detail = (body as { detail?: unknown } | null)?.detail ?? null;
  const message = typeof detail === "string" ? detail : `HTTP ${response.status}`;
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
