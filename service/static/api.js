/* Talking to PlaneNet's HTTP API: JSON in and out, every error an RFC 9457 problem (ApiError). */

let readKey = () => "";

/** Where the API key comes from (the page's key field); it is sent as X-API-Key when given. */
export function useKeyFrom(read) {
  readKey = read;
}

export function authHeaders() {
  const key = readKey().trim();
  return key ? { "X-API-Key": key } : {};
}

/** A failed request, with the problem the server answered (title, detail, errors). */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

/** Send a request with a JSON body (if any); the parsed JSON answer, or an ApiError. */
export async function api(method, path, body) {
  const headers = { Accept: "application/json, application/problem+json", ...authHeaders() };
  const init = { method, headers };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    throw new ApiError(0, { title: "The server cannot be reached", detail: String(error.message || error) });
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    const problem = data && typeof data === "object"
      ? data
      : { title: `HTTP ${response.status}`, detail: text.slice(0, 300) };
    throw new ApiError(response.status, problem);
  }
  return data;
}
