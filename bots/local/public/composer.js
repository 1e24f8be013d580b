import { el } from './dom.js';

// A message box with slash-command autocomplete (an ARIA combobox): typing "/" lists the commands
// that fit here; arrows move, Enter or Tab completes, Escape closes. Once a command is complete, a
// usage line shows its options.

/**
 * @param form the composer <form>
 * @param opts { where: 'channel' | 'thread', commands(): CommandHelp[], onSubmit(text, image): Promise<boolean>,
 *             attachment?: setupAttachment(…) }
 *             onSubmit gets the attached upload's key or null, and returns true to clear the box.
 */
export function setupComposer(form, opts) {
  const input = form.querySelector('input');
  const list = form.querySelector('.suggestions');
  const usage = form.querySelector('.usage');
  let matches = [];
  let active = -1;
  let busy = false;

  const fits = (command) => !command.where || command.where === 'both' || command.where === opts.where;

  function close() {
    matches = [];
    active = -1;
    list.hidden = true;
    list.replaceChildren();
    input.setAttribute('aria-expanded', 'false');
    input.removeAttribute('aria-activedescendant');
  }

  function highlight(index) {
    active = index;
    [...list.children].forEach((item, i) => item.setAttribute('aria-selected', String(i === index)));
    const item = list.children[index];
    if (item) {
      input.setAttribute('aria-activedescendant', item.id);
      item.scrollIntoView({ block: 'nearest' });
    } else input.removeAttribute('aria-activedescendant');
  }

  function choose(index) {
    const command = matches[index];
    if (!command) return;
    input.value = `/${command.name} `;
    close();
    refresh();
    input.focus();
  }

  function describe(command) {
    const options = (command.options ?? []).map((o) => (o.required ? `${o.name}` : `[${o.name}:${o.choices ? o.choices.join('|') : '…'}]`));
    return `/${command.name} ${options.join(' ')} — ${command.description}`;
  }

  function refresh() {
    const value = input.value;
    const typed = /^\/([\w-]*)$/.exec(value);
    const commands = opts.commands().filter(fits);
    if (typed) {
      const prefix = typed[1].toLowerCase();
      matches = commands.filter((c) => c.name.startsWith(prefix));
      list.replaceChildren(
        ...matches.map((c, i) =>
          el(
            'li',
            { id: `${list.id}-${i}`, role: 'option', 'aria-selected': 'false', class: 'suggestion', onmousedown: (e) => e.preventDefault(), onclick: () => choose(i) },
            el('span', { class: 'name', text: `/${c.name}` }),
            el('span', { class: 'desc', text: c.description }),
          ),
        ),
      );
      list.hidden = matches.length === 0;
      input.setAttribute('aria-expanded', String(matches.length > 0));
      highlight(matches.length > 0 ? 0 : -1);
    } else close();
    const named = /^\/([\w-]+)\s/.exec(value);
    const command = named && commands.find((c) => c.name === named[1].toLowerCase());
    usage.textContent = command ? describe(command) : '';
  }

  input.addEventListener('input', refresh);
  input.addEventListener('blur', () => setTimeout(close, 100));
  input.addEventListener('keydown', (event) => {
    if (list.hidden || matches.length === 0) {
      if (event.key === 'Escape') input.value === '' ? input.blur() : null;
      return;
    }
    if (event.key === 'ArrowDown') {
      event.preventDefault();
      highlight((active + 1) % matches.length);
    } else if (event.key === 'ArrowUp') {
      event.preventDefault();
      highlight((active - 1 + matches.length) % matches.length);
    } else if (event.key === 'Tab' || (event.key === 'Enter' && active >= 0 && input.value !== `/${matches[active].name}`)) {
      event.preventDefault();
      choose(active >= 0 ? active : 0);
    } else if (event.key === 'Escape') {
      event.preventDefault();
      close();
    }
  });

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text || busy) return;
    close();
    busy = true;
    form.setAttribute('aria-busy', 'true');
    try {
      // A message waits for its image's upload; a failed upload has said why, and nothing is sent.
      const image = opts.attachment ? await opts.attachment.ready() : { ok: true, key: null };
      if (image.ok && (await opts.onSubmit(text, image.key))) {
        input.value = '';
        opts.attachment?.clear();
        refresh();
      }
    } finally {
      busy = false;
      form.removeAttribute('aria-busy');
    }
  });

  return { refresh, focus: () => input.focus() };
}
