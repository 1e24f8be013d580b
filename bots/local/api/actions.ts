import { Hono } from 'hono';
import type { ActionEvent } from '../../../src/core/ports/chat-adapter.ts';
import { findButton } from '../action-match.ts';
import { MAX_SNAPSHOT } from '../local-store.ts';
import { localUser } from '../local-users.ts';
import { fail, type ApiContext } from './context.ts';
import { ActionBody } from './request-schemas.ts';

/**
 * POST /api/threads/:id/actions: clicking a button in a thread (by its key, or by its action and
 * take as a script would say it), or submitting a form the core opened there.
 */
export function actionsApi(api: ApiContext): Hono {
  const { adapter, store } = api;
  const app = new Hono();

  app.post('/:id/actions', async (c) => {
    const thread = await api.threadOr404(c);
    if (thread instanceof Response) return thread;
    const body = await api.readBody(c, ActionBody, 'The action');
    if (body instanceof Response) return body;
    const { messages } = await store.snapshot(`t:${thread.id}`, MAX_SNAPSHOT);
    const buttons = messages.flatMap((m) => m.buttons.flat());
    const exact = (key: string) => buttons.findLast((b) => b.action === key);
    let key: string;
    if (body.values !== undefined) {
      // A submitted edit form: its action came from an openForm outcome, not from a button.
      key = (body.key ?? body.action)!;
      if (!exact(key) && !(await store.isFormOpen(thread.id, key))) return fail(c, 404, 'not_found', 'That form is not open in this thread.');
    } else {
      let button = body.key !== undefined ? exact(body.key) : exact(body.action!);
      if (!button && body.key === undefined) {
        const found = findButton(messages, { action: body.action!, ...(body.take !== undefined ? { take: body.take } : {}) }, adapter.matchAction);
        if (found && 'ambiguous' in found) return fail(c, 400, 'bad_input', `Several "${body.action}" buttons match; add "take" to say which.`);
        button = found?.button;
      }
      if (!button) {
        const what = body.key !== undefined ? 'with that key' : `"${body.action}"${body.take !== undefined ? ` for take ${body.take}` : ''}`;
        return fail(c, 404, 'not_found', `There is no button ${what} in this thread.`);
      }
      if (button.disabled) return fail(c, 409, 'conflict', `The "${button.label}" button is disabled.`);
      key = button.action;
    }
    const user = localUser(body.user);
    const event: ActionEvent = {
      id: api.eventId('action', user, body.id),
      platform: 'local',
      kind: 'action',
      user,
      receivedAt: Date.now(),
      thread: adapter.threadRef(thread),
      action: key,
    };
    if (body.values !== undefined) event.values = body.values;
    return api.deliver(c, event, body.id !== undefined, thread.id);
  });

  return app;
}
