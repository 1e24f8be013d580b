import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Credits } from '../../src/provenance/index.ts';

export const exec = promisify(execFile);

export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'dailies-provenance-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * A real H.264 MP4 from ffmpeg's test pattern. `faststart` puts moov before mdat, as the
 * project's encoder does; without it moov comes last, as most tools write it.
 */
export async function makeMp4(
  file: string,
  options: { source?: 'testsrc' | 'testsrc2'; size?: string; seconds?: number; bitrate?: string; faststart?: boolean } = {},
): Promise<string> {
  // testsrc2 has more detail, so a bitrate target turns into a file of about that size.
  const { source = 'testsrc', size = '64x64', seconds = 2, bitrate, faststart = false } = options;
  await exec('ffmpeg', [
    '-v', 'error', '-y', '-f', 'lavfi', '-i', `${source}=size=${size}:rate=8`, '-t', String(seconds), '-pix_fmt', 'yuv420p',
    ...(bitrate ? ['-c:v', 'libx264', '-b:v', bitrate] : []),
    ...(faststart ? ['-movflags', '+faststart'] : []),
    file,
  ]);
  return file;
}

/** Frames ffmpeg decodes from the file: proof the signed file still plays. */
export async function decodedFrames(file: string): Promise<number> {
  const { stdout } = await exec('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v:0', '-show_entries', 'stream=nb_read_frames', '-of', 'csv=p=0', file]);
  return Number(stdout.trim());
}

/** A thread with a revision and a vote: two versions, two people, one finalized take. */
export function sampleCredits(overrides: Partial<Credits> = {}): Credits {
  const ana = { id: 'discord:1001', name: 'Ana' };
  const bo = { id: 'discord:1002', name: 'Bo' };
  return {
    title: 'a red circle moving slowly to the left',
    software: { name: 'dailies', version: '0.1.0' },
    model: { name: 'shapes-v2', weightsSha256: '9f2c4e1a0b7d3c5e8f6a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6a' },
    take: { version: 2, take: 1 },
    lineage: [
      { version: 1, prompt: 'a red circle moving to the left', author: ana, change: 'first version', parent: null },
      { version: 2, prompt: 'a red circle moving slowly to the left', negativePrompt: 'blurry', author: bo, change: "added 'slowly'", parent: { version: 1, take: 2 } },
    ],
    contributors: [
      { person: ana, roles: ['prompted', 'voted'] },
      { person: bo, roles: ['revised', 'voted', 'finalized'] },
    ],
    ...overrides,
  };
}
