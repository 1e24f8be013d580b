import type { Session } from './session.ts';

/**
 * What retention reads off a session document: whether it holds a final worth keeping longer,
 * and which artifacts are its own.
 */

/**
 * A take won a vote, or a final (a finalize or a storyboard's film) was rendered. Such a session
 * is kept whole, lineage included, until the longer setting (DAILIES_RETENTION_KEEP_DAYS), so
 * the final can still be shown with the prompts and votes that made it.
 */
export function keepsFinal(session: Session): boolean {
  return session.rounds.some((r) => r.winner !== null) || session.jobs.some((j) => j.quality === 'final' && j.state === 'done' && j.artifacts.length > 0);
}

/**
 * The session's files in the artifact store. `folders`: everything a job wrote lives under
 * `renders/<jobId>/` (takes, previews, fitted copies `<key>.fit<N>.mp4`, chain and cut segments),
 * so one folder per job covers files the document never names. `keys`: input images, each stored
 * under a fresh `inputs/<random>/` key by the image intake, so no other session shares them.
 * Keys under another session's renders (never made today) are left alone.
 */
export function filesOf(session: Session): { folders: string[]; keys: string[] } {
  const keys = new Set<string>();
  const image = session.settings.image?.artifact.key;
  if (image) keys.add(image);
  for (const job of session.jobs) {
    const input = job.request?.image?.artifact.key;
    if (input) keys.add(input);
  }
  return {
    folders: session.jobs.map((j) => `renders/${j.jobId}/`),
    keys: [...keys].filter((k) => k.startsWith('inputs/')),
  };
}
