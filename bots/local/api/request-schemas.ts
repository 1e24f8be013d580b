import { z } from 'zod';
import { describeZodIssues } from '../../../src/errors.ts';
import { isChannelId } from '../local-chat-adapter.ts';
import { isPrintableName, USER_NAME_MAX } from '../local-users.ts';
import { UploadKey } from '../uploads.ts';

/** The JSON bodies the web chat API accepts, and the one sentence a bad body is answered with. */

const userName = z
  .string({ error: 'must be a display name (a string)' })
  .trim()
  .min(1, { error: 'must not be empty' })
  .max(USER_NAME_MAX, { error: `must be at most ${USER_NAME_MAX} characters` })
  .refine(isPrintableName, { error: 'must not contain control characters' });
const clientId = z
  .string()
  .regex(/^[A-Za-z0-9._:-]{1,100}$/, { error: 'must be 1 to 100 letters, digits, dots, dashes, colons or underscores' })
  .optional();
const channelId = z.string().refine(isChannelId, { error: 'must be a channel name of lower-case letters, digits and dashes' });
const optionValue = z.union([z.string().max(4000, { error: 'must be at most 4000 characters' }), z.number().finite(), z.boolean(), z.null()], {
  error: 'must be a string (at most 4000 characters), number, boolean or null',
});

/** POST /api/commands: a command by name and options, or typed as text ("/video a red circle"). */
export const CommandBody = z
  .strictObject({
    id: clientId,
    channel: channelId.optional(),
    thread: z.string().max(64).optional(),
    user: userName,
    name: z.string({ error: 'must be a command name like "video"' }).regex(/^[a-z0-9_-]{1,32}$/, { error: 'must be a command name like "video"' }).optional(),
    options: z
      .record(z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, { error: 'must be an option name' }), optionValue)
      .refine((o) => Object.keys(o).length <= 25, { error: 'must have at most 25 entries' })
      .optional(),
    text: z.string().min(1).max(4000).optional(),
    /** An upload's key (POST /api/uploads): the command's image option, by name or typed. */
    image: UploadKey.optional(),
  })
  .refine((b) => (b.name === undefined) !== (b.text === undefined), {
    error: 'needs either "name" (with "options") or "text" like "/video a red circle"',
  })
  .refine((b) => b.channel !== undefined || b.thread !== undefined, { error: 'needs a "channel" (or the "thread" it is typed in)' });

/** POST /api/threads/:id/messages */
export const ReplyBody = z.strictObject({
  id: clientId,
  user: userName,
  text: z
    .string({ error: 'must be the reply text (a string)' })
    .trim()
    .min(1, { error: 'must not be empty' })
    .max(4000, { error: 'must be at most 4000 characters' }),
  /** An upload's key (POST /api/uploads): the still this reply's version animates. */
  image: UploadKey.optional(),
});

/** POST /api/uploads?user=<name>: the uploader (the body is the image itself). */
export const UploadQuery = z.object({ user: userName });

/** POST /api/threads/:id/actions: a button (by key, or by action and take), or a submitted form. */
export const ActionBody = z
  .strictObject({
    id: clientId,
    user: userName,
    key: z.string().min(1).max(100).optional(),
    action: z.string().min(1).max(100).optional(),
    take: z.int().min(1).max(100).optional(),
    values: z.record(z.string().min(1).max(64), z.string().max(4000)).refine((v) => Object.keys(v).length <= 10, { error: 'must have at most 10 fields' }).optional(),
  })
  .refine((b) => b.key !== undefined || b.action !== undefined, { error: 'needs an "action" (or a button "key")' });

/** POST /api/channels */
export const ChannelBody = z.strictObject({ name: channelId });

/** The first problem with a body, as one sentence about `what` ("The command"). */
export function describeBodyError(what: string, issues: z.core.$ZodIssue[]): string {
  const first = issues.find((i) => i.code !== 'unrecognized_keys') ?? issues[0];
  if (!first) return `${what} is invalid.`;
  if (first.code === 'unrecognized_keys') return `${what} has an unknown field "${first.keys[0]}".`;
  if (first.path.length === 0) {
    if (first.code === 'invalid_type') return `${what} must be a JSON object.`;
    return `${what} ${first.message.replace(/\.$/, '')}.`;
  }
  if (first.code === 'invalid_type' && first.message.startsWith('Invalid input')) {
    const field = first.path.map(String).join('.');
    const received = /received (\w+)/.exec(first.message)?.[1];
    if (received === 'undefined') return `${what} needs a "${field}" field.`;
    const expected = first.expected === 'int' ? 'an integer' : first.expected === 'record' || first.expected === 'object' ? 'a JSON object' : `a ${first.expected}`;
    return `${what}: "${field}" must be ${expected}${received ? `, not ${received === 'array' || received === 'object' ? 'an' : 'a'} ${received}` : ''}.`;
  }
  return describeZodIssues(what, [first]);
}
