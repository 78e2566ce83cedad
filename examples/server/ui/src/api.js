// The dashboard's only door to the server: every management API call goes through
// api(), which sends the operator token in the Authorization header and nowhere
// else. Without a token nothing is sent. The token lives in sessionStorage: typed
// once per browser tab, gone when the tab closes, never in a URL.
const TOKEN_KEY = 'spotopt.operator-token';

export const operatorToken = {
  get: () => sessionStorage.getItem(TOKEN_KEY),
  set: (token) => sessionStorage.setItem(TOKEN_KEY, token),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// Told when the server refuses the token (or there is none), so the app can ask
// for it again.
let signedOut = () => {};
export function onSignedOut(callback) {
  signedOut = callback;
}

// Keys with an empty value are left out: an empty filter is no filter.
function queryString(query) {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null && value !== '') params.set(key, value);
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

// path: below /api/admin/, its segments already encoded (see pathOf()).
export async function api(path, { method = 'GET', query, body, signal } = {}) {
  const token = operatorToken.get();
  if (!token) {
    signedOut();
    throw new ApiError(401, 'unauthenticated', 'Sign in with an operator token first.');
  }
  const headers = { Authorization: `Bearer ${token}` };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(`/api/admin/${path}${queryString(query)}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal,
    cache: 'no-store',
    credentials: 'omit',
    referrerPolicy: 'no-referrer',
  });
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    if (response.status === 401) {
      operatorToken.clear();
      signedOut();
    }
    throw new ApiError(response.status, data?.error ?? 'error', data?.message ?? response.statusText);
  }
  return data;
}

// A path from segments and ids, each encoded: pathOf('tenants', t, 'agents', a).
export function pathOf(...segments) {
  return segments.map(encodeURIComponent).join('/');
}
