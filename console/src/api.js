// Calls to the graphport API: JSON in and out, the token from the header bar on every call,
// and server-sent events read from fetch (EventSource can neither POST nor send a header).

// What precedes /console in the page's URL (http.mount_prefix), injected by the server
export const BASE = window.GRAPHPORT_BASE || '';

const TOKEN_KEY = 'graphport.console.token';
const authListeners = new Set();

export function getToken() {
  return localStorage.getItem(TOKEN_KEY) || '';
}

export function setToken(token) {
  if (token) localStorage.setItem(TOKEN_KEY, token);
  else localStorage.removeItem(TOKEN_KEY);
  notifyAuth(0);
}

// status 0: the token changed; 401/403: the server refused a call
export function onAuth(listener) {
  authListeners.add(listener);
  return () => authListeners.delete(listener);
}

function notifyAuth(status) {
  for (const listener of authListeners) listener(status);
}

export class ApiError extends Error {
  constructor(status, detail) {
    super(status === 401 ? `${detail} (401: this server needs a token)` : `${detail} (${status})`);
    this.status = status;
    this.detail = detail;
  }
}

function headers(extra = {}) {
  const out = { 'Content-Type': 'application/json', ...extra };
  const token = getToken();
  if (token) out.Authorization = `Bearer ${token}`;
  return out;
}

async function failure(res) {
  if (res.status === 401 || res.status === 403) notifyAuth(res.status);
  const text = await res.text();
  let detail = text || res.statusText;
  try {
    const parsed = JSON.parse(text);
    if (parsed && parsed.detail !== undefined) detail = String(parsed.detail);
  } catch {
    // not JSON: keep the text
  }
  return new ApiError(res.status, detail);
}

export async function api(method, path, body) {
  const res = await fetch(BASE + path, {
    method,
    headers: headers(),
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw await failure(res);
  const text = await res.text();
  return text ? JSON.parse(text) : null;
}

export const get = (path) => api('GET', path);
export const post = (path, body) => api('POST', path, body ?? {});

// Read an SSE response, calling onEvent({event, data, id}) for each event (data parsed as
// JSON when it is JSON), and onOpen() once the server answered. Resolves when the server ends
// the stream; `signal` aborts it.
export async function stream(method, path, body, onEvent, signal, onOpen) {
  const res = await fetch(BASE + path, {
    method,
    headers: headers({ Accept: 'text/event-stream' }),
    body: body === undefined ? undefined : JSON.stringify(body),
    signal,
  });
  if (!res.ok) throw await failure(res);
  onOpen?.();
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  const feed = sseParser(onEvent);
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    // lines end with \n, \r\n or \r; a trailing \r may be the first half of \r\n
    let match;
    while ((match = /\r\n|\n|\r(?!$)/.exec(buffer))) {
      feed(buffer.slice(0, match.index));
      buffer = buffer.slice(match.index + match[0].length);
    }
  }
  if (buffer) feed(buffer);
  feed('');
}

function sseParser(onEvent) {
  let event = 'message';
  let data = [];
  let id = null;
  return (line) => {
    if (line === '') {
      if (data.length) {
        const text = data.join('\n');
        let parsed = text;
        try {
          parsed = JSON.parse(text);
        } catch {
          // plain text data
        }
        onEvent({ event, data: parsed, id });
      }
      event = 'message';
      data = [];
      return;
    }
    if (line.startsWith(':')) return; // a comment (heartbeat)
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
    else if (field === 'id') id = value;
  };
}

// The tags that load a graph's generative-UI component (POST /ui/{graph_id}, the way react-ui's
// LoadExternalComponent asks): {status, text}; 404 when the graph has no `ui` block
export async function uiFragment(graphId, name) {
  const res = await fetch(`${BASE}/ui/${encodeURIComponent(graphId)}`, {
    method: 'POST',
    headers: headers(),
    body: JSON.stringify({ name }),
  });
  if (res.status === 401 || res.status === 403) notifyAuth(res.status);
  return { status: res.status, text: await res.text() };
}
