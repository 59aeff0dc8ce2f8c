'use strict';

// Turns the hub's RFC 9457 problems into the errors Zapier acts on:
//   401 KEY_EXPIRED / KEY_REVOKED -> ExpiredAuthError (a key that was valid: Zapier
//                    asks the user to reconnect with the new one)
//   401 otherwise -> Error (a wrong or unknown key: a plain authentication failure,
//                    which is what the connection test shows at connect)
//   429           -> ThrottledError with Retry-After (Zapier retries later)
//   409 IDEMPOTENCY_IN_PROGRESS -> ThrottledError (the first attempt is still running)
//   other 4xx     -> Error with the problem's detail and field errors (not retried)
//   5xx           -> Error (Zapier Autoreplay may run the step again; the same
//                    Idempotency-Key makes that safe)

const DEFAULT_IN_PROGRESS_DELAY = 5;
// Zapier shows at most this much of an error message: the code and the correlation id
// (what support asks for) are kept whole, the description is cut first.
const MAX_MESSAGE = 250;
const RECONNECT_CODES = new Set(['KEY_EXPIRED', 'KEY_REVOKED']);

const problemOf = (response) => {
  let body;
  try {
    body = typeof response.json === 'object' && response.json !== null ? response.json : JSON.parse(response.content);
  } catch (err) {
    body = null;
  }
  return body && typeof body === 'object' ? body : {};
};

const retryAfterSeconds = (response) => {
  const raw = response.headers && response.headers.get ? response.headers.get('retry-after') : null;
  const seconds = raw === null || raw === undefined ? NaN : parseInt(raw, 10);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds : null;
};

// "Validation failed: email: expected a valid address; phones[0]: too long"
const describe = (problem, status) => {
  const title = problem.detail || problem.title || `The hub answered HTTP ${status}`;
  const fieldErrors = Array.isArray(problem.errors) ? problem.errors : [];
  const parts = fieldErrors
    .filter((e) => e && (e.path || e.message))
    .map((e) => (e.path ? `${e.path}: ${e.message || 'invalid'}` : String(e.message)));
  const code = problem.code ? ` [${problem.code}]` : '';
  const correlation = problem.correlation_id ? ` (correlation id ${problem.correlation_id})` : '';
  const text = parts.length ? `${title}${code}: ${parts.join('; ')}` : `${title}${code}`;
  return fit(text, correlation, code);
};

// `text` + `tail` within MAX_MESSAGE, cutting the description, never the code or tail.
const fit = (text, tail, code, limit = MAX_MESSAGE) => {
  if (text.length + tail.length <= limit) {
    return `${text}${tail}`;
  }
  const room = limit - tail.length - 1; // 1 for the ellipsis
  const at = code ? text.indexOf(code) : -1;
  if (at >= 0 && at + code.length <= room) {
    return `${text.slice(0, room).trimEnd()}…${tail}`; // the code fits: cut the field errors
  }
  const head = at >= 0 ? text.slice(0, at) : text;
  return `${head.slice(0, Math.max(0, room - code.length)).trimEnd()}…${code}${tail}`.slice(0, limit);
};

const errorFor = (z, response) => {
  const status = response.status;
  const problem = problemOf(response);
  const code = problem.code || `HTTP_${status}`;
  const message = describe(problem, status);
  if (status === 401 && RECONNECT_CODES.has(code)) {
    return new z.errors.ExpiredAuthError(
      fit('The API key was revoked or rotated past its grace period: reconnect with the new key.', ` ${message}`, ''),
    );
  }
  if (status === 401) {
    return new z.errors.Error(
      fit('Authentication failed: check the API key (it starts with hk_) and the Hub URL.', ` ${message}`, ''),
      code,
      status,
    );
  }
  if (status === 429) {
    return new z.errors.ThrottledError(message, retryAfterSeconds(response));
  }
  if (status === 409 && code === 'IDEMPOTENCY_IN_PROGRESS') {
    return new z.errors.ThrottledError(message, retryAfterSeconds(response) ?? DEFAULT_IN_PROGRESS_DELAY);
  }
  return new z.errors.Error(message, code, status);
};

// afterResponse middleware: every non-2xx answer becomes one of the errors above.
const handleProblems = (response, z) => {
  if (response.status >= 400) {
    throw errorFor(z, response);
  }
  return response;
};

module.exports = { handleProblems, errorFor, describe, retryAfterSeconds, MAX_MESSAGE };
