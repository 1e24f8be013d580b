/**
 * How a command is typed in Slack. Slack keeps built-in commands (/status, /remind, …) that no app
 * can take over, and the apps of a workspace share one namespace in which /help, /cancel or
 * /history are likely taken already. So the app declares two slash commands
 * (slack-app-manifest.yml): /video, the one people start with, and /dailies <command> for every
 * other command of the registry.
 *
 * The core and the other platforms write a command as `/cancel`, which is right on Discord and
 * the web chat; everything this adapter shows passes through `slackWording`, so people in Slack
 * are told what they can type there (`/dailies cancel`).
 */

/** The umbrella slash command; its first word names the command to run. */
export const UMBRELLA_COMMAND = 'dailies';

/** Commands that keep a slash command of their own in the manifest. */
export const OWN_SLASH_COMMANDS: ReadonlySet<string> = new Set(['video']);

/** What a person types in Slack to run `name`: `/video`, `/dailies cancel`. */
export function slashForm(name: string): string {
  return OWN_SLASH_COMMANDS.has(name) ? `/${name}` : `/${UMBRELLA_COMMAND} ${name}`;
}

/**
 * A rewriter of text into Slack's command forms, for the registry's command names: `/cancel` ->
 * `/dailies cancel`, `/video` unchanged. Only a whole command word counts, at the start or after a
 * space, bracket, quote or mrkdwn mark, so URLs, paths, `50/50` and `/cutaway` stay as they are;
 * unknown names stay too. A prompt that itself says " /status " is shown as "/dailies status" in
 * Slack; its stored text is not touched.
 */
export function slackWording(commandNames: Iterable<string>): (text: string) => string {
  const names = [...new Set(commandNames)]
    .filter((n) => !OWN_SLASH_COMMANDS.has(n) && /^[a-z0-9_-]+$/.test(n))
    // Longest first, so one name that starts another cannot win the alternation.
    .sort((a, b) => b.length - a.length);
  if (names.length === 0) return (text) => text;
  const pattern = new RegExp(`(^|[\\s(\\[{"'“‘\`*_~])/(${names.join('|')})(?![\\w/-])`, 'g');
  return (text) => text.replace(pattern, (_m, before: string, name: string) => `${before}${slashForm(name)}`);
}
