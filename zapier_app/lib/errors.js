'use strict';

// Turns the hub's RFC 9457 problems into the errors Zapier acts on:
//   401           -> ExpiredAuthError (Zapier asks the user to reconnect; rotated past
//                    its grace period or revoked key)
//   429           -> ThrottledError with Retry-After (Zapier retries later)
//   409 IDEMPOTENCY_IN_PROGRESS -> ThrottledError (the first attempt is still running)
//   other 4xx     -> Error with the problem's detail and field errors (not retried)
//   5xx           -> Error (Zapier Autoreplay may run the step again; the same
//                    Idempotency-Key makes that safe)

const DEFAULT_IN_PROGRESS_DELAY = 5;

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
  return parts.length ? `${title}${code}: ${parts.join('; ')}${correlation}` : `${title}${code}${correlation}`;
};

const errorFor = (z, response) => {
  const status = response.status;
  const problem = problemOf(response);
  const code = problem.code || `HTTP_${status}`;
  const message = describe(problem, status);
  if (status === 401) {
    return new z.errors.ExpiredAuthError(
      `${message}. The API key was revoked or rotated past its grace period: reconnect with the new key.`,
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

module.exports = { handleProblems, errorFor, describe, retryAfterSeconds };
