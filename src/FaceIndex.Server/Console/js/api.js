// The FaceIndex REST API (gRPC JSON transcoding) as seen by the console: every call carries the API key,
// every failure becomes an ApiError with the HTTP status, the machine-readable reason and the server's message.

const KEY_STORE = 'faceindex.apiKey';

/** An error reply of the server: HTTP status, reason (NO_FACE, NOT_FOUND, …) and the message to show. */
export class ApiError extends Error {
  constructor(status, reason, message) {
    super(message);
    this.status = status;
    this.reason = reason;
  }
}

const CODE_NAMES = ['OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS',
  'PERMISSION_DENIED', 'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED',
  'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS', 'UNAUTHENTICATED'];

export function apiKey() { return sessionStorage.getItem(KEY_STORE) ?? ''; }
export function setApiKey(key) { if (key) { sessionStorage.setItem(KEY_STORE, key); } else { sessionStorage.removeItem(KEY_STORE); } }

async function errorOf(response) {
  let body = null;
  try { body = await response.json(); } catch { /* not JSON: a proxy's page, an empty body */ }
  const details = Array.isArray(body?.details) ? body.details : [];
  const info = details.find(d => typeof d?.reason === 'string');
  const reason = info?.reason ?? response.headers.get('faceindex-reason')
    ?? (typeof body?.code === 'number' ? CODE_NAMES[body.code] : null) ?? `HTTP_${response.status}`;
  const message = body?.message || response.statusText || `The server answered ${response.status}.`;
  return new ApiError(response.status, reason, message);
}

/** Calls the REST API; resolves to the parsed JSON reply, rejects with ApiError. */
export async function call(method, path, body, { signal } = {}) {
  const headers = { 'accept': 'application/json' };
  const key = apiKey();
  if (key) { headers['x-api-key'] = key; }
  if (body !== undefined) { headers['content-type'] = 'application/json'; }
  let response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal });
  } catch (e) {
    if (e.name === 'AbortError') { throw e; }
    throw new ApiError(0, 'NETWORK', 'The server cannot be reached.');
  }
  if (!response.ok) { throw await errorOf(response); }
  const text = await response.text();
  return text.length ? JSON.parse(text) : {};
}

const enc = encodeURIComponent;
const col = c => `/v1/collections/${enc(c)}`;

export const api = {
  stats: () => call('GET', '/v1/stats'),
  collections: () => call('GET', '/v1/collections'),
  createCollection: (name, model) => call('POST', '/v1/collections', { name, model }),
  deleteCollection: name => call('DELETE', `/v1/collections/${enc(name)}`),
  persons: (c, pageSize, pageToken) => call('GET', `${col(c)}/persons?pageSize=${pageSize}${pageToken ? `&pageToken=${enc(pageToken)}` : ''}`),
  person: (c, id) => call('GET', `${col(c)}/persons/${enc(id)}`),
  updatePerson: (c, id, metadata, replace) => call('PATCH', `${col(c)}/persons/${enc(id)}`, { metadata, replaceMetadata: replace }),
  renamePerson: (c, id, newPersonId) => call('PATCH', `${col(c)}/persons/${enc(id)}`, { newPersonId }),
  deletePerson: (c, id) => call('DELETE', `${col(c)}/persons/${enc(id)}`),
  deleteFace: (c, faceId) => call('DELETE', `${col(c)}/faces/${enc(faceId)}`),
  thumbnail: (c, faceId) => call('GET', `${col(c)}/faces/${enc(faceId)}/thumbnail`),
  enrol: (c, personId, image, faceIndices) => call('POST', `${col(c)}/persons/${enc(personId)}/faces`, { image, faceIndices }),
  search: (c, image, topK) => call('POST', `${col(c)}:search`, { image, topK }),
  verify: (c, body) => call('POST', `${col(c)}:verify`, body),
  startClustering: (c, body) => call('POST', `${col(c)}:cluster`, body),
  migrate: (c, body) => call('POST', `${col(c)}:migrate`, body),
  operation: id => call('GET', `/v1/operations/${enc(id)}`),
  cancelOperation: id => call('POST', `/v1/operations/${enc(id)}:cancel`),
  clusters: (c, minSize, pageSize, pageToken) => call('GET', `${col(c)}/clusters?minSize=${minSize}&pageSize=${pageSize}${pageToken ? `&pageToken=${enc(pageToken)}` : ''}`),
  cluster: (c, id) => call('GET', `${col(c)}/clusters/${enc(id)}`),
  assignFaces: (c, personId, faceIds) => call('POST', `${col(c)}/persons/${enc(personId)}:assignFaces`, { faceIds }),
};

/** The server's Prometheus text, parsed into samples: [{ name, labels, value }]. */
export async function metrics() {
  const headers = {};
  const key = apiKey();
  if (key) { headers['x-api-key'] = key; }
  const response = await fetch('/console/metrics', { headers });
  if (!response.ok) { throw await errorOf(response); }
  return parsePrometheus(await response.text());
}

export function parsePrometheus(text) {
  const samples = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) { continue; }
    const m = /^([a-zA-Z_:][\w:]*)(\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (!m) { continue; }
    const labels = {};
    if (m[3]) {
      for (const l of m[3].matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) { labels[l[1]] = l[2]; }
    }
    samples.push({ name: m[1], labels, value: Number(m[4]) });
  }
  return samples;
}

/** A File (or Blob) as base64, the form the JSON API takes images in. */
export async function toBase64(file) {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}
