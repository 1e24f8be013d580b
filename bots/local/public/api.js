// The JSON API (documented in bots/local/API.md). Every call resolves to { ok, status, body };
// failures carry body.error = { code, message } with a sentence fit to show as is.

export function request(method, path, body) {
  return send(path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** POST /api/uploads: the file itself as the body, with its own type; answers { key, bytes, contentType, width, height }. */
export function uploadImage(file, user) {
  return send(`/api/uploads?user=${enc(user)}`, { method: 'POST', headers: { 'content-type': file.type }, body: file });
}

async function send(path, init) {
  let response;
  try {
    response = await fetch(path, init);
  } catch {
    return failure(0, 'unavailable', 'The server cannot be reached; check that dailies is running.');
  }
  let json = null;
  try {
    json = await response.json();
  } catch {
    // an empty or non-JSON body
  }
  if (json && typeof json === 'object') return { ok: response.ok, status: response.status, body: json };
  return response.ok ? { ok: true, status: response.status, body: {} } : failure(response.status, 'internal', `The server answered with status ${response.status}.`);
}

function failure(status, code, message) {
  return { ok: false, status, body: { error: { code, message } } };
}

export const enc = encodeURIComponent;
