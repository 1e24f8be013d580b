import { renderCredentials } from './credentials.js';
import { el, formatBytes, formatText, formatTime, hueOf } from './dom.js';

// One chat message as a list item. Edits replace only the text and buttons, so a playing video
// or a loaded preview is not reloaded each time the progress line changes.

/**
 * @param view the API's message JSON
 * @param ctx { onButton(view, button, node), onOpenThread(threadId), inThread: boolean }
 */
export function renderMessage(view, ctx) {
  const node = el('li', { class: 'message', dataset: { id: view.id } });
  node.dataset.rev = String(view.rev);
  node.dataset.files = filesOf(view);
  const author = view.author ?? { name: 'unknown', id: '' };
  const avatar = el('div', { class: `avatar${author.bot ? ' bot' : ''}`, 'aria-hidden': 'true', text: author.bot ? '▶' : (author.name || '?').slice(0, 1).toUpperCase() });
  avatar.style.setProperty('--hue', String(hueOf(author.id || author.name)));

  const meta = el(
    'div',
    { class: 'meta' },
    el('span', { class: 'author', text: author.name }),
    author.bot ? el('span', { class: 'badge', text: 'BOT' }) : null,
    el('time', { datetime: new Date(view.createdAt).toISOString(), text: formatTime(view.createdAt) }),
    el('span', { class: 'edited', text: '(edited)', hidden: view.editedAt ? null : true }),
  );
  const invocation = view.invocation
    ? el('p', { class: 'invocation' }, el('span', { class: 'who', text: view.invocation.user }), ' used ', el('code', { text: view.invocation.command }))
    : null;
  const body = el(
    'div',
    { class: 'body' },
    invocation,
    meta,
    el('div', { class: 'text' }),
    renderAttachments(view.attachments ?? []),
    el('div', { class: 'buttons' }),
  );
  if (view.root && view.thread && !ctx.inThread) {
    body.append(
      el('button', { type: 'button', class: 'thread-link', dataset: { thread: view.thread }, onclick: () => ctx.onOpenThread(view.thread) }),
    );
  }
  node.append(avatar, body);
  fill(node, view, ctx);
  setReplies(node, view.replies ?? 0);
  return node;
}

/** Applies an edit; returns false for an update older than what is shown. */
export function updateMessage(node, view, ctx) {
  if (Number(node.dataset.rev) > view.rev) return false;
  node.dataset.rev = String(view.rev);
  const edited = node.querySelector('.edited');
  if (edited) edited.hidden = !view.editedAt;
  // Edits keep a message's files; a replace swaps them (a progress message's newest preview) or
  // drops them all (a moderator's removal, a job's end).
  const files = filesOf(view);
  if (node.dataset.files !== files) {
    node.dataset.files = files;
    node.querySelector('.attachments')?.remove();
    const block = renderAttachments(view.attachments ?? []);
    if (block) node.querySelector('.text').after(block);
  }
  fill(node, view, ctx);
  return true;
}

/** The files a message shows, by address, to tell a swap from a text edit. */
function filesOf(view) {
  return (view.attachments ?? []).map((a) => a.url).join('\n');
}

export function setReplies(node, replies) {
  const link = node.querySelector('.thread-link');
  if (!link) return;
  link.textContent = replies > 0 ? `${replies} ${replies === 1 ? 'reply' : 'replies'} · Open thread` : 'Open thread';
  link.dataset.replies = String(replies);
}

function fill(node, view, ctx) {
  node.querySelector('.text').replaceChildren(formatText(view.text ?? '', view.createdAt ?? Date.now()));
  const holder = node.querySelector('.buttons');
  holder.replaceChildren(
    ...(view.buttons ?? []).map((row) =>
      el(
        'div',
        { class: 'button-row', role: 'group' },
        row.map((button) =>
          el('button', {
            type: 'button',
            class: `btn ${button.style ?? 'secondary'}`,
            disabled: button.disabled ? true : null,
            dataset: { action: button.action },
            text: button.label,
            onclick: (event) => ctx.onButton(view, button, event.currentTarget),
          }),
        ),
      ),
    ),
  );
  holder.hidden = holder.childElementCount === 0;
}

function renderAttachments(attachments) {
  if (attachments.length === 0) return null;
  return el(
    'div',
    { class: 'attachments' },
    attachments.map((a) => {
      const caption = el(
        'figcaption',
        {},
        // Every posted video is of kind "final" (not a preview); only the message says whether it is
        // a take, a finalized render or a cut, so the caption names the file's nature, not its role.
        el('span', { class: `kind ${a.kind}`, text: fileNature(a) }),
        ' ',
        el('a', { href: a.url, download: a.filename, text: a.filename }),
        a.bytes ? ` · ${formatBytes(a.bytes)}` : '',
      );
      // A signed file offers its Content Credentials under the caption.
      return el('figure', { class: `attachment ${a.kind}` }, media(a), caption, a.signed === true ? renderCredentials(a) : null);
    }),
  );
}

/** "Preview", or what the file is: "Video", "Image", "File". */
function fileNature(a) {
  if (a.kind === 'preview') return 'Preview';
  const type = String(a.contentType ?? '');
  return type.startsWith('video/') ? 'Video' : type.startsWith('image/') ? 'Image' : 'File';
}

function media(a) {
  const type = String(a.contentType ?? '');
  if (type.startsWith('image/')) {
    return el('img', { src: a.url, alt: `${fileNature(a)} ${a.filename}`, loading: 'lazy', decoding: 'async' });
  }
  if (type.startsWith('video/')) {
    const video = el('video', { src: a.url, controls: true, muted: true, loop: true, playsinline: true, preload: 'metadata', 'aria-label': `Video ${a.filename}` });
    // The attribute alone does not mute a video created from script; autoplay policies read the property.
    video.muted = true;
    return video;
  }
  return el('p', { class: 'file', text: a.filename });
}
