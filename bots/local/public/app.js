import { request, enc } from './api.js';
import { el, randomId, showNotice } from './dom.js';
import { createHub } from './live.js';
import { renderMessage, setReplies, updateMessage } from './render.js';
import { setupComposer } from './composer.js';
import { setupAttachment } from './attach.js';

// The local chat page: channels on the left, the channel's session roots in the middle, a session
// thread on the right. The address (#/general/t_abc) names the open channel and thread, so a
// reload or a shared link opens the same view.

const NAME_KEY = 'dailies.name';
const $ = (id) => document.getElementById(id);
const hub = createHub({
  onConnected: (up) => {
    $('connection').hidden = up;
  },
});

const state = {
  name: loadName(),
  commands: [],
  channels: [],
  channelId: null,
  threadId: null,
  channelView: null,
  threadView: null,
};

function loadName() {
  let name = null;
  try {
    name = localStorage.getItem(NAME_KEY);
  } catch {
    // storage can be disabled; a fresh guest name per load is fine then
  }
  return name && name.trim() ? name : `guest-${Math.floor(100 + Math.random() * 900)}`;
}

function saveName(name) {
  state.name = name;
  try {
    localStorage.setItem(NAME_KEY, name);
  } catch {
    // see loadName
  }
  $('name-input').value = name;
  $('thread-input').placeholder = `Reply as ${name} to refine the prompt…`;
  $('channel-input').placeholder = `/video a red circle — as ${name}`;
}

// ---- routing ----------------------------------------------------------------------------------

function parseHash() {
  const [, channel, thread] = /^#\/([a-z0-9-]+)(?:\/([A-Za-z0-9_-]+))?$/.exec(location.hash) ?? [];
  return { channel: channel ?? state.channels[0]?.id ?? 'general', thread: thread ?? null };
}

function go(channel, thread) {
  const hash = `#/${channel}${thread ? `/${thread}` : ''}`;
  if (location.hash !== hash) location.hash = hash;
  else route();
}

function route() {
  const { channel, thread } = parseHash();
  if (channel !== state.channelId) openChannel(channel);
  if (thread !== state.threadId) thread ? openThread(thread) : closeThread();
}

// ---- a live list of messages (a channel or a thread) ------------------------------------------

function liveList({ path, stream, list, inThread, onLoaded, onError, onChange, onRetitled }) {
  const nodes = new Map();
  const roots = new Map();
  let stop = () => {};
  let closed = false;
  let loading = false;

  const ctx = { inThread, onButton: clickButton, onOpenThread: (id) => go(state.channelId, id) };

  function add(view) {
    if (nodes.has(view.id)) return update(view);
    const stick = list.dataset.stick !== 'false';
    const node = renderMessage(view, ctx);
    nodes.set(view.id, node);
    if (view.root && view.thread) roots.set(view.thread, node);
    list.append(node);
    if (stick) list.scrollTop = list.scrollHeight;
    if (!loading) onChange?.();
  }

  function update(view) {
    const node = nodes.get(view.id);
    if (node && updateMessage(node, view, ctx)) onChange?.();
  }

  async function load() {
    const res = await request('GET', `${path}?limit=500`);
    if (closed) return;
    if (!res.ok) return onError?.(res.body.error);
    stop();
    nodes.clear();
    roots.clear();
    list.replaceChildren();
    loading = true;
    for (const view of res.body.messages) add(view);
    loading = false;
    list.dataset.stick = 'true';
    list.scrollTop = list.scrollHeight;
    onLoaded?.(res.body);
    stop = hub.subscribe(stream, res.body.seq, {
      'message.posted': (e) => add(e.message),
      'message.edited': (e) => update(e.message),
      'thread.updated': (e) => {
        // A post brings the reply count, a retitle the title: each update carries only what changed.
        const root = roots.get(e.thread.id);
        if (root && e.thread.replies !== undefined) setReplies(root, e.thread.replies);
        if (e.thread.title !== undefined) onRetitled?.(e.thread);
      },
      reset: () => load(),
    });
  }

  load();
  return {
    close() {
      closed = true;
      stop();
    },
  };
}

/** Keeps a list scrolled to the newest message while the reader is at the bottom, also as media loads. */
function stickToBottom(list) {
  list.addEventListener('scroll', () => {
    list.dataset.stick = String(list.scrollHeight - list.scrollTop - list.clientHeight < 120);
  });
  const keep = () => {
    if (list.dataset.stick !== 'false') list.scrollTop = list.scrollHeight;
  };
  list.addEventListener('load', keep, true);
  list.addEventListener('loadedmetadata', keep, true);
}

// ---- channels -----------------------------------------------------------------------------------

async function loadChannels() {
  const res = await request('GET', '/api/channels');
  if (!res.ok) return showNotice(document.querySelector('#channel-composer .notice'), 'error', res.body.error.message);
  state.channels = res.body.channels;
  renderChannels();
}

function renderChannels() {
  $('channel-list').replaceChildren(
    ...state.channels.map((c) =>
      el(
        'li',
        {},
        el('a', { href: `#/${c.id}`, class: 'channel-link', 'aria-current': c.id === state.channelId ? 'page' : null }, el('span', { 'aria-hidden': 'true', text: '#' }), c.name),
      ),
    ),
  );
}

function openChannel(id) {
  state.channelView?.close();
  state.channelId = id;
  renderChannels();
  $('channel-title').textContent = `# ${id}`;
  $('channel-input').setAttribute('aria-label', `Command in #${id}`);
  showNotice(document.querySelector('#channel-composer .notice'), 'info', '');
  state.channelView = liveList({
    path: `/api/channels/${enc(id)}`,
    stream: `channel:${id}`,
    list: $('channel-messages'),
    inThread: false,
    onError: (error) => showNotice(document.querySelector('#channel-composer .notice'), 'error', error.message),
  });
}

// ---- threads ------------------------------------------------------------------------------------

function openThread(id) {
  state.threadView?.close();
  state.threadId = id;
  const panel = $('thread-panel');
  panel.hidden = false;
  document.body.classList.add('thread-open');
  $('thread-title').textContent = 'Loading thread…';
  $('thread-sub').textContent = '';
  $('thread-session').hidden = true;
  showNotice(document.querySelector('#thread-composer .notice'), 'info', '');
  state.threadView = liveList({
    path: `/api/threads/${enc(id)}`,
    stream: `thread:${id}`,
    list: $('thread-messages'),
    inThread: true,
    onLoaded: (data) => {
      $('thread-title').textContent = data.thread.title;
      $('thread-sub').textContent = `#${data.thread.channel} · started by ${data.thread.createdBy}`;
      renderSession(data.session);
      markOwnVotes(data.session);
      $('thread-input').focus();
    },
    onError: (error) => {
      $('thread-title').textContent = 'Thread not found';
      showNotice(document.querySelector('#thread-composer .notice'), 'error', error.message);
    },
    onChange: scheduleSessionRefresh,
    onRetitled: (thread) => {
      if (thread.id === state.threadId) $('thread-title').textContent = thread.title;
    },
  });
}

function closeThread() {
  state.threadView?.close();
  state.threadView = null;
  state.threadId = null;
  $('thread-panel').hidden = true;
  document.body.classList.remove('thread-open');
}

let sessionTimer = null;
function scheduleSessionRefresh() {
  clearTimeout(sessionTimer);
  const id = state.threadId;
  sessionTimer = setTimeout(async () => {
    if (!id || id !== state.threadId) return;
    const res = await request('GET', `/api/threads/${enc(id)}/session`);
    if (res.ok && id === state.threadId) {
      renderSession(res.body.session);
      markOwnVotes(res.body.session);
    }
  }, 500);
}

/**
 * Marks the Vote button of the take the viewer voted for in each round (`aria-pressed`, the
 * `.voted` style): the take messages are the same for everyone, so the page does it per viewer.
 */
function markOwnVotes(session) {
  const rounds = new Map((session?.rounds ?? []).map((r) => [String(r.id), r]));
  for (const button of document.querySelectorAll('#thread-messages button[data-action^="vote:"]')) {
    const [, , roundId, take] = button.dataset.action.split(':');
    const mine = rounds.get(roundId)?.voters?.[state.name];
    const pressed = mine !== undefined && String(mine) === take;
    button.classList.toggle('voted', pressed);
    button.setAttribute('aria-pressed', String(pressed));
  }
}

/** The core's session summary; its shape belongs to the core, so only plain fields are listed. */
function renderSession(session) {
  const dl = $('thread-session');
  dl.replaceChildren();
  if (!session || typeof session !== 'object') {
    dl.hidden = true;
    return;
  }
  for (const [key, value] of Object.entries(session)) {
    if (value === null || typeof value === 'object' || String(value).length > 200) continue;
    dl.append(el('div', { class: 'pair' }, el('dt', { text: key }), el('dd', { text: String(value) })));
  }
  dl.hidden = dl.childElementCount === 0;
}

// ---- acting -------------------------------------------------------------------------------------

function showOutcome(notice, res) {
  if (!res.ok) return showNotice(notice, 'error', res.body.error?.message ?? 'That did not work.');
  if (res.body.ephemeral) showNotice(notice, 'ephemeral', res.body.ephemeral);
  else if (res.body.pending) showNotice(notice, 'info', 'Still working on it; the answer will appear here.');
  else showNotice(notice, 'info', '');
  if (res.body.form) openForm(res.body.form);
}

async function clickButton(view, button, node) {
  const thread = view.thread;
  const notice = document.querySelector(state.threadId === thread ? '#thread-composer .notice' : '#channel-composer .notice');
  node.disabled = true;
  node.setAttribute('aria-busy', 'true');
  const res = await request('POST', `/api/threads/${enc(thread)}/actions`, { id: randomId(), user: state.name, action: button.action });
  if (node.isConnected) {
    node.disabled = Boolean(button.disabled);
    node.removeAttribute('aria-busy');
  }
  showOutcome(notice, res);
}

async function sendFromChannel(text, image) {
  const notice = document.querySelector('#channel-composer .notice');
  if (!text.startsWith('/')) {
    showNotice(notice, 'error', 'Start with / to run a command, for example /video a red circle.');
    return false;
  }
  const res = await request('POST', '/api/commands', { id: randomId(), channel: state.channelId, user: state.name, text, ...(image && { image }) });
  showOutcome(notice, res);
  if (res.ok && res.body.thread) go(state.channelId, res.body.thread);
  return res.ok;
}

async function sendFromThread(text, image) {
  const notice = document.querySelector('#thread-composer .notice');
  const thread = state.threadId;
  const body = { id: randomId(), user: state.name, text, ...(image && { image }) };
  const res = text.startsWith('/')
    ? await request('POST', '/api/commands', { ...body, thread })
    : await request('POST', `/api/threads/${enc(thread)}/messages`, body);
  showOutcome(notice, res);
  if (res.ok && res.body.thread && res.body.thread !== thread) go(state.channelId, res.body.thread);
  return res.ok;
}

function openForm(form) {
  const dialog = $('form-dialog');
  const thread = state.threadId;
  $('form-title').textContent = form.title;
  const notice = dialog.querySelector('.notice');
  showNotice(notice, 'info', '');
  $('form-fields').replaceChildren(
    ...form.fields.map((f) => {
      const id = `form-field-${f.id}`;
      const input = f.multiline ? el('textarea', { id, name: f.id, rows: '4' }) : el('input', { id, name: f.id, type: 'text' });
      input.value = f.value;
      return el('div', { class: 'field' }, el('label', { for: id, text: f.label }), input);
    }),
  );
  const submit = async (event) => {
    event.preventDefault();
    const values = {};
    for (const f of form.fields) values[f.id] = $(`form-field-${f.id}`).value;
    const res = await request('POST', `/api/threads/${enc(thread)}/actions`, { id: randomId(), user: state.name, action: form.action, values });
    if (!res.ok) return showNotice(notice, 'error', res.body.error.message);
    dialog.close();
    showOutcome(document.querySelector('#thread-composer .notice'), res);
  };
  $('form-dialog-form').onsubmit = submit;
  $('form-cancel').onclick = () => dialog.close();
  dialog.showModal();
}

// ---- start ----------------------------------------------------------------------------------------

async function loadCommands() {
  const res = await request('GET', '/api/commands/help');
  if (res.ok && Array.isArray(res.body.commands)) state.commands = res.body.commands;
}

/** Image buttons, drop and paste, once the server says it takes uploads (GET /api/health names their limit). */
async function offerImages(attachments) {
  const res = await request('GET', '/api/health');
  if (Number.isFinite(res.body.maxImageBytes)) for (const a of attachments) a.enable(res.body.maxImageBytes);
}

function setup() {
  saveName(state.name);
  stickToBottom($('channel-messages'));
  stickToBottom($('thread-messages'));
  $('name-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const name = $('name-input').value.trim().replace(/\s+/g, ' ');
    const hint = $('name-hint');
    if (!name || name.length > 40) {
      hint.textContent = 'A name is 1 to 40 characters.';
      hint.classList.add('error');
      return;
    }
    hint.classList.remove('error');
    saveName(name);
    hint.textContent = `You are now ${name}.`;
  });
  $('add-channel').addEventListener('submit', async (event) => {
    event.preventDefault();
    const input = $('new-channel');
    const hint = $('new-channel-hint');
    const name = input.value.trim().toLowerCase().replace(/^#/, '');
    const res = await request('POST', '/api/channels', { name });
    if (!res.ok) {
      hint.textContent = res.body.error.message;
      hint.classList.add('error');
      return;
    }
    hint.classList.remove('error');
    hint.textContent = 'Lower-case letters, digits and dashes.';
    input.value = '';
    await loadChannels();
    go(res.body.channel.id);
  });
  $('thread-close').addEventListener('click', () => go(state.channelId));
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && state.threadId && !$('form-dialog').open && !event.defaultPrevented && document.activeElement?.getAttribute('aria-expanded') !== 'true') {
      go(state.channelId);
    }
  });
  const attachments = [$('channel-composer'), $('thread-composer')].map((form) => setupAttachment(form, { user: () => state.name, notice: form.querySelector('.notice') }));
  setupComposer($('channel-composer'), { where: 'channel', commands: () => state.commands, onSubmit: sendFromChannel, attachment: attachments[0] });
  setupComposer($('thread-composer'), { where: 'thread', commands: () => state.commands, onSubmit: sendFromThread, attachment: attachments[1] });
  window.addEventListener('hashchange', route);
  return attachments;
}

const attachments = setup();
await Promise.all([loadChannels(), loadCommands(), offerImages(attachments)]);
route();
document.body.dataset.ready = 'true';
