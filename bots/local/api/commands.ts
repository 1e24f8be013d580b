import { Hono } from 'hono';
import type { CommandEvent, ThreadRef } from '../../../src/core/ports/chat-adapter.ts';
import { isDailiesError } from '../../../src/errors.ts';
import { parseCommandLine } from '../command-line.ts';
import { USER_NAME_MAX, localPerson, localUser } from '../local-users.ts';
import { UploadKey } from '../uploads.ts';
import { fail, type ApiContext } from './context.ts';
import { CommandBody } from './request-schemas.ts';

/** /api/commands: typing a command in a channel or thread, and the list of commands for the page's help. */
export function commandsApi(api: ApiContext): Hono {
  const { adapter, store } = api;
  const app = new Hono();

  app.post('/', async (c) => {
    const body = await api.readBody(c, CommandBody, 'The command');
    if (body instanceof Response) return body;
    let thread: ThreadRef | undefined;
    let channel = body.channel;
    if (body.thread !== undefined) {
      const stored = await adapter.findThread(body.thread);
      if (!stored) return fail(c, 404, 'not_found', 'There is no such thread.');
      if (channel !== undefined && channel !== stored.channelId) return fail(c, 400, 'bad_input', `That thread is in #${stored.channelId}, not #${channel}.`);
      thread = adapter.threadRef(stored);
      channel = stored.channelId;
    }
    if (!channel || !(await store.getChannel(channel))) return fail(c, 404, 'not_found', `There is no channel #${channel ?? ''}.`);
    let name = body.name;
    let commandOptions: Record<string, unknown> = body.options ?? {};
    if (body.text !== undefined) {
      try {
        ({ name, options: commandOptions } = parseCommandLine(body.text, await adapter.commandHelp()));
      } catch (error) {
        if (isDailiesError(error)) return fail(c, 400, error.code, error.message);
        throw error;
      }
    }
    // A person option arrives as a name (`/block Ben`); the core takes the id that name has here, and the name.
    for (const o of (await adapter.commandHelp()).find((h) => h.name === name)?.options ?? []) {
      const typed = commandOptions[o.name];
      if (o.type !== 'person' || typed === undefined || typed === null || typed === '') continue;
      const person = localPerson(typed);
      if (!person) return fail(c, 400, 'bad_input', `${o.name} must be a person's name as the web chat shows it (1 to ${USER_NAME_MAX} characters), such as Ben.`);
      commandOptions = { ...commandOptions, [o.name]: person };
    }
    const user = localUser(body.user);
    // An upload's key, beside the command or by name as its image option, becomes the attachment
    // the core's image intake fetches; only the uploader's own keys resolve (../uploads.ts).
    const imageOption = adapter.imageOption(name!);
    let image = body.image;
    const named = imageOption === undefined ? undefined : commandOptions[imageOption];
    if (imageOption !== undefined && named !== undefined && named !== null && named !== '') {
      if (image !== undefined) return fail(c, 400, 'bad_input', `Give the image once, as "image" or as options.${imageOption}, not both.`);
      const key = UploadKey.safeParse(named);
      if (!key.success) return fail(c, 400, 'bad_input', `${imageOption} ${key.error.issues[0]?.message ?? 'must be an upload key'}.`);
      image = key.data;
    }
    if (image !== undefined) {
      if (imageOption === undefined) return fail(c, 400, 'bad_input', `/${name} does not take an image; send it with ${adapter.imageCommands.map((n) => `/${n}`).join(' or ')}.`);
      const attachment = await api.uploadOr4xx(c, user, image);
      if (attachment instanceof Response) return attachment;
      commandOptions = { ...commandOptions, [imageOption]: attachment };
    }
    const event: CommandEvent = {
      id: api.eventId('command', user, body.id),
      platform: 'local',
      kind: 'command',
      user,
      receivedAt: Date.now(),
      channelId: channel,
      name: name!,
      options: commandOptions,
    };
    if (thread) event.thread = thread;
    return api.deliver(c, event, body.id !== undefined, thread?.threadId);
  });

  app.get('/help', async (c) => c.json({ commands: await adapter.commandHelp() }));

  return app;
}
