// Calls to OpenCCM's API as the signed-in user: the session cookie goes
// with every same-origin request, and the session's anti-forgery value in
// X-OpenCCM-CSRF (crates/openccm-http/src/console/mod.rs).

let csrf = '';

export function setCsrf(value) {
  csrf = value || '';
}

// An error answer of the API: its status, error_code and error_msg.
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function errorOf(response) {
  let code = '';
  let message = response.statusText;
  try {
    const body = await response.json();
    code = body.error_code || (body.error && String(body.error.code)) || '';
    message = body.error_msg || (body.error && body.error.message) || message;
  } catch (_) {
    // Not JSON: the status says it.
  }
  return new ApiError(response.status, code, message);
}

// Calls `path`; answers the parsed JSON (or null for an empty answer).
// `blob: true` answers the body as a Blob with its file name.
export async function api(method, path, body, options = {}) {
  // Before sign-in there is no value yet; the header is sent anyway (the
  // sign-in call must carry it: crates/openccm-http/src/console/mod.rs).
  const headers = { 'X-OpenCCM-CSRF': csrf || 'sign-in' };
  const init = { method, headers, credentials: 'same-origin', cache: 'no-store' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  if (!response.ok) {
    const err = await errorOf(response);
    // The session ended (signed out elsewhere, expired, password changed):
    // the shell shows the sign-in page.
    if (response.status === 401 && path !== '/console/session') {
      window.dispatchEvent(new Event('openccm-session-ended'));
    }
    throw err;
  }
  if (options.blob) {
    const disposition = response.headers.get('Content-Disposition') || '';
    const match = /filename="?([^";]+)"?/.exec(disposition);
    return { blob: await response.blob(), name: match ? match[1] : 'download' };
  }
  const text = await response.text();
  return text ? JSON.parse(text) : null;
}

// A query string of the defined values of `params`.
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') {
      q.set(k, String(v));
    }
  }
  const text = q.toString();
  return text ? `?${text}` : '';
}
