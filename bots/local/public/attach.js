import { uploadImage } from './api.js';
import { el, formatBytes, showNotice } from './dom.js';

// An image attached to a message box, to animate with /video or a thread reply: chosen with the
// file button, dropped on the box or pasted into it. It is uploaded at once (POST /api/uploads,
// which checks it and strips its metadata) and shown as a small chip with a remove button; the
// message then carries the upload's key.

const TYPES = ['image/png', 'image/jpeg', 'image/webp'];

/**
 * Off (no button, drops and pastes left alone) until `enable(maxBytes)`: the server may take no uploads.
 * @param form the composer <form> (with .attach, input[type=file] and .attachment-tray)
 * @param opts { user(): string, notice: Element }
 * @returns { enable(maxBytes), ready(): Promise<{ ok: boolean, key: string | null }>, clear() }
 */
export function setupAttachment(form, opts) {
  const button = form.querySelector('.attach');
  const picker = form.querySelector('input[type="file"]');
  const tray = form.querySelector('.attachment-tray');
  const input = form.querySelector('input[type="text"]');
  let maxBytes = 0;
  // { file, name, user, upload: Promise<{ ok, key }> } while an image is attached.
  let current = null;

  button.addEventListener('click', () => picker.click());
  picker.addEventListener('change', () => {
    if (picker.files?.[0]) attach(picker.files[0]);
    // The same file chosen again must fire 'change' again.
    picker.value = '';
  });

  const holdsFiles = (event) => maxBytes > 0 && [...(event.dataTransfer?.types ?? [])].includes('Files');
  form.addEventListener('dragover', (event) => {
    if (!holdsFiles(event)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = 'copy';
    form.classList.add('dropping');
  });
  form.addEventListener('dragleave', (event) => {
    if (!form.contains(event.relatedTarget)) form.classList.remove('dropping');
  });
  form.addEventListener('drop', (event) => {
    if (!holdsFiles(event)) return;
    event.preventDefault();
    form.classList.remove('dropping');
    const file = event.dataTransfer.files[0];
    if (file) attach(file);
  });
  input.addEventListener('paste', (event) => {
    const file = [...(event.clipboardData?.files ?? [])].find((f) => f.type.startsWith('image/'));
    if (!file || maxBytes === 0) return;
    event.preventDefault();
    attach(file);
  });

  function refuse(text) {
    showNotice(opts.notice, 'error', text);
  }

  function attach(file) {
    const name = file.name || 'pasted image';
    if (!TYPES.includes(file.type)) return refuse(`${name} is not a PNG, JPEG or WebP image; attach one of those.`);
    if (file.size > maxBytes) return refuse(`${name} is ${formatBytes(file.size)}, over the ${formatBytes(maxBytes)} limit; attach a smaller image.`);
    showNotice(opts.notice, 'info', '');
    const thumb = el('img', { class: 'thumb', alt: '' });
    const label = el('span', { class: 'chip-label', text: `${name} · uploading…` });
    const chip = el(
      'div',
      { class: 'image-chip', role: 'group', 'aria-label': `Attached image ${name}`, 'aria-busy': 'true' },
      thumb,
      label,
      el('button', { type: 'button', class: 'chip-remove', 'aria-label': `Remove ${name}`, text: '×', onclick: () => clear() }),
    );
    current = { file, name, user: opts.user(), upload: null };
    current.upload = send(current, chip, thumb, label);
    tray.replaceChildren(chip);
    tray.hidden = false;
    input.focus();
  }

  async function send(entry, chip, thumb, label) {
    const res = await uploadImage(entry.file, entry.user);
    // Removed (or replaced) meanwhile: the message goes without it.
    if (current !== entry) return { ok: true, key: null };
    if (!res.ok) {
      clear();
      refuse(res.body.error?.message ?? 'The image could not be uploaded.');
      return { ok: false, key: null };
    }
    const { key, width, height } = res.body;
    // What the server kept (turned upright, without metadata), not the file as picked.
    thumb.src = `/artifacts/${key}`;
    label.textContent = `${entry.name} · ${width}×${height}`;
    chip.removeAttribute('aria-busy');
    chip.dataset.key = key;
    return { ok: true, key };
  }

  /** The attached upload's key once it is stored (null: nothing attached); ok false when the upload failed. */
  async function ready() {
    if (!current) return { ok: true, key: null };
    // An upload is bound to its uploader: after switching names, the same file is uploaded again.
    if (current.user !== opts.user()) {
      const chip = tray.querySelector('.image-chip');
      chip.setAttribute('aria-busy', 'true');
      current.user = opts.user();
      current.upload = send(current, chip, chip.querySelector('.thumb'), chip.querySelector('.chip-label'));
    }
    return current.upload;
  }

  function clear() {
    current = null;
    tray.replaceChildren();
    tray.hidden = true;
  }

  function enable(limit) {
    maxBytes = limit;
    button.hidden = false;
  }

  return { enable, ready, clear };
}
