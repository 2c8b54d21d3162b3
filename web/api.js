// The API client: the key lives in sessionStorage (this tab only), never in a URL or a cookie.
const KEY_STORAGE = "medialib.api_key";
let apiBase = location.origin;

/** Where the API is: config.json next to the page names it when deployed apart, else this origin. */
export async function loadConfig() {
  try {
    const response = await fetch(new URL("config.json", document.baseURI), { cache: "no-store" });
    if (response.ok) {
      const config = await response.json();
      if (config.api) apiBase = String(config.api).replace(/\/+$/, "");
    }
  } catch {
    // No config.json: the API is served from the page's own origin (the local stack).
  }
}

export const session = {
  get key() {
    return sessionStorage.getItem(KEY_STORAGE);
  },
  set key(value) {
    if (value) sessionStorage.setItem(KEY_STORAGE, value);
    else sessionStorage.removeItem(KEY_STORAGE);
  },
};

/** A problem+json answer (or a network failure) as an Error with the API's own words. */
export class ApiError extends Error {
  constructor(status, problem) {
    const detail = problem.detail || problem.title || `HTTP ${status}`;
    super(problem.errors?.length ? `${detail}: ${problem.errors.map((e) => `${e.field} ${e.message}`).join("; ")}` : detail);
    this.status = status;
    this.code = problem.code || "error";
    this.problem = problem;
  }
}

/** One API call; resolves to {data, body, etag}, rejects with ApiError. */
export async function api(method, path, { query, body, headers = {}, key = session.key } = {}) {
  const url = new URL(`${apiBase}${path}`);
  for (const [name, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== "" && value !== false) url.searchParams.set(name, value);
  }
  const init = { method, headers: { ...headers, Authorization: `Bearer ${key}` } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(url, init);
  } catch (error) {
    throw new ApiError(0, { detail: `The API could not be reached (${error.message})` });
  }
  const text = await response.text();
  let parsed = {};
  try {
    parsed = text ? JSON.parse(text) : {};
  } catch {
    parsed = { detail: text.slice(0, 200) };
  }
  if (!response.ok) throw new ApiError(response.status, parsed);
  return { data: parsed.data, body: parsed, etag: response.headers.get("ETag") };
}

/** POST the file to storage with the presigned form; onProgress gets a fraction 0..1. */
export function postToStorage(presigned, file, onProgress) {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    for (const [name, value] of Object.entries(presigned.fields || {})) form.append(name, value);
    form.append("file", file); // the file goes last, after every policy field
    const request = new XMLHttpRequest();
    request.open("POST", presigned.url);
    request.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    });
    request.addEventListener("load", () => {
      if (request.status >= 200 && request.status < 300) resolve();
      else reject(new ApiError(request.status, { detail: `Storage refused the upload (HTTP ${request.status})` }));
    });
    request.addEventListener("error", () => reject(new ApiError(0, { detail: "The upload to storage failed" })));
    request.send(form);
  });
}
