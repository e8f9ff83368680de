// The public API over fetch, signed in by the session cookie: every write carries the
// page's CSRF token. Refusals become a Problem (the contract's problem+json).
export class Problem extends Error {
  constructor(status, body) {
    const detail = (body && (body.detail || body.title)) || `The server answered ${status}.`;
    const fields = body && body.errors
      ? Object.entries(body.errors).map(([field, messages]) => `${field}: ${[].concat(messages).join(" ")}`).join("; ")
      : "";
    super(fields ? `${detail} (${fields})` : detail);
    this.status = status;
    this.code = (body && body.code) || (status === 0 ? "offline" : "error");
    this.body = body || {};
  }
}

export function setCsrf(token) {
  if (token) document.body.dataset.csrf = token;
}

// Every answer with a server_time tells how far this device's clock is from the server's.
export const clock = {offsetMs: 0};

export async function request(method, path, body, {base = "/api/v1/", headers = {}} = {}) {
  const init = {method, credentials: "same-origin", headers: {Accept: "application/json", ...headers}};
  if (method !== "GET") init.headers["X-CSRFToken"] = document.body.dataset.csrf;
  if (body instanceof FormData) init.body = body;
  else if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(base + path, init);
  } catch {
    throw new Problem(0, {code: "offline", detail: "The server cannot be reached (offline). Nothing was changed."});
  }
  if (response.status === 204) return null;
  const type = response.headers.get("Content-Type") || "";
  const data = type.includes("json") ? await response.json() : await response.text();
  if (!response.ok) throw new Problem(response.status, typeof data === "object" ? data : {detail: data});
  if (data && data.server_time) clock.offsetMs = Date.parse(data.server_time) - Date.now();
  return data;
}

export const api = {
  get: (path) => request("GET", path),
  post: (path, body) => request("POST", path, body),
  patch: (path, body) => request("PATCH", path, body),
  del: (path, body) => request("DELETE", path, body),
};

// The web app's session sign-in (accounts/session_api.py), outside /api/v1/.
export async function session(action, body) {
  const answer = await request("POST", `${action}/`, body, {base: "/session/"});
  setCsrf(answer.csrf_token);
  return answer;
}

// The user's tags, or null when the server has no tags/ (an older server).
export async function tagsOrNull() {
  try {
    return await all("tags/");
  } catch (problem) {
    if (problem.status === 404) return null;
    throw problem;
  }
}

// Every page of a paginated list, up to `limit` items.
export async function all(path, limit = 1000) {
  let items = [];
  let next = path;
  while (next && items.length < limit) {
    const page = await request("GET", next.startsWith("http") ? next.slice(next.indexOf("/api/v1/") + 8) : next);
    items = items.concat(page.results);
    next = page.next;
  }
  return items;
}
