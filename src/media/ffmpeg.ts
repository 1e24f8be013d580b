/**
 * The only door to ffmpeg. fluent-ffmpeg is archived upstream, so nothing else may import it:
 * everything in src/media goes through `ensureFfmpeg`, `listEncoders`, `probeMedia` and
 * `runFfmpeg`, and replacing fluent-ffmpeg with a plain `spawn` means rewriting this file only.
 */
import { constants as fsConstants } from 'node:fs';
import { access } from 'node:fs/promises';
import path from 'node:path';
import { Writable } from 'node:stream';
import { execFile, type ChildProcess } from 'node:child_process';
import Ffmpeg from 'fluent-ffmpeg';
import { DailiesError } from '../errors.ts';

export interface FfmpegTools {
  ffmpeg: string;
  /** Empty when ffprobe is missing; only `probeMedia` needs it and reports that itself. */
  ffprobe: string;
}

/** Raw RGB24 video as the engine produces it (a `Clip` fits). */
export interface RawVideo {
  width: number;
  height: number;
  fps: number;
  frames: Iterable<Uint8Array> | AsyncIterable<Uint8Array>;
}

export type FfmpegInput =
  /** A file; `args` go before `-i` (e.g. a format whitelist). */
  | { path: string; args?: string[] }
  /** RGB24 frames written to stdin as `-f rawvideo -pix_fmt rgb24 -s WxH -r FPS -i pipe:0`. */
  | { frames: RawVideo }
  /** Bytes written to stdin; only for formats ffmpeg can read without seeking (not most MP4s). */
  | { bytes: Uint8Array; args?: string[] };

export interface FfmpegJob {
  input: FfmpegInput;
  /** Everything between the input and the output: filters, codec, `-f`. */
  outputArgs: string[];
  /** A file path (overwritten), or 'stdout' to collect ffmpeg's output in memory. */
  output: string | 'stdout';
  /**
   * More files written by the same run, each with its own arguments (filters, codec, `-f`).
   * ffmpeg reads and decodes the input once for all of them, and one process start is saved
   * per output: for a short take that start-up is most of the encode.
   */
  moreOutputs?: { path: string; args: string[] }[];
  signal?: AbortSignal;
}

/** ffmpeg ran and failed; the message carries the tail of its stderr for logs, never for users. */
export class FfmpegError extends Error {
  override readonly name = 'FfmpegError';
  constructor(
    message: string,
    readonly stderrTail: string,
  ) {
    super(stderrTail ? `${message}: ${stderrTail}` : message);
  }
}

const MISSING_FFMPEG =
  'ffmpeg was not found on PATH; install it with `sudo apt-get install ffmpeg` (or your OS package manager) and try again.';
const MISSING_FFPROBE =
  'ffprobe was not found on PATH; it ships with ffmpeg, so install that with `sudo apt-get install ffmpeg` (or your OS package manager) and try again.';
const CANCELLED = 'The job was cancelled; send the command again to start over.';

// Keyed by the environment it was resolved from, so changing PATH (or installing ffmpeg while
// running) is noticed without a restart, while the common case costs one Map lookup.
const toolCache = new Map<string, Promise<FfmpegTools>>();

/**
 * Finds ffmpeg (FFMPEG_PATH, else PATH as it is now) and ffprobe (FFPROBE_PATH, else PATH,
 * else next to ffmpeg). Throws `missing_dependency` when ffmpeg is absent.
 */
export function ensureFfmpeg(): Promise<FfmpegTools> {
  const env = process.env;
  const key = [env.FFMPEG_PATH, env.FFPROBE_PATH, env.PATH].join('\0');
  let tools = toolCache.get(key);
  if (!tools) {
    tools = resolveTools(env);
    toolCache.set(key, tools);
    // Failures are cheap to recompute and must not stick once ffmpeg gets installed.
    tools.catch(() => toolCache.delete(key));
  }
  return tools;
}

async function resolveTools(env: NodeJS.ProcessEnv): Promise<FfmpegTools> {
  const ffmpeg = (await firstExecutable([env.FFMPEG_PATH])) ?? (await findOnPath('ffmpeg', env.PATH));
  if (!ffmpeg) throw new DailiesError('missing_dependency', MISSING_FFMPEG);
  const ffprobe =
    (await firstExecutable([env.FFPROBE_PATH])) ??
    (await findOnPath('ffprobe', env.PATH)) ??
    (await firstExecutable([path.join(path.dirname(ffmpeg), exeName('ffprobe'))])) ??
    '';
  return { ffmpeg, ffprobe };
}

function exeName(name: string): string {
  return process.platform === 'win32' ? `${name}.exe` : name;
}

async function findOnPath(name: string, searchPath: string | undefined): Promise<string | undefined> {
  const dirs = (searchPath ?? '').split(path.delimiter).filter(Boolean);
  return firstExecutable(dirs.map((dir) => path.join(dir, exeName(name))));
}

async function firstExecutable(candidates: (string | undefined)[]): Promise<string | undefined> {
  for (const candidate of candidates) {
    if (!candidate) continue;
    try {
      await access(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return undefined;
}

function command(tools: FfmpegTools): Ffmpeg.FfmpegCommand {
  // fluent-ffmpeg keeps binary paths in a module-wide cache; setting them on every command
  // keeps it in step with `ensureFfmpeg` instead of its own, never-refreshed `which`.
  // stdoutLines also bounds the stderr ring buffer, which is all we keep for error messages.
  return Ffmpeg({ stdoutLines: 40 }).setFfmpegPath(tools.ffmpeg).setFfprobePath(tools.ffprobe);
}

let encoders: Promise<ReadonlySet<string>> | undefined;

/** Encoder names of this ffmpeg build (`ffmpeg -encoders`), read once per process. */
export function listEncoders(): Promise<ReadonlySet<string>> {
  encoders ??= ensureFfmpeg().then(
    (tools) =>
      new Promise<ReadonlySet<string>>((resolve, reject) => {
        command(tools).getAvailableEncoders((err, found) => {
          if (err) reject(new FfmpegError('ffmpeg -encoders failed', String(err.message ?? err)));
          else resolve(new Set(Object.keys(found)));
        });
      }),
  );
  encoders.catch(() => (encoders = undefined));
  return encoders;
}

export interface MediaProbe {
  /** Demuxer name(s) as ffprobe reports them, e.g. "png_pipe" or "mov,mp4,m4a,3gp,3g2,mj2". */
  format: string;
  durationSec?: number;
  /** The first video stream that is not cover art; absent when the file has none. */
  video?: {
    codec: string;
    width: number;
    height: number;
    pixFmt: string;
    /** As a fraction string ffmpeg accepts back, e.g. "25/1". */
    frameRate: string;
    /** Frames the container declares; absent when it does not say (GIF, WebM, images). */
    frames?: number;
    /** Degrees ffmpeg will rotate by when it decodes (phone videos carry a display matrix). */
    rotation: number;
  };
}

/** ffprobe a file. `inputArgs` go before the input, e.g. `['-format_whitelist', 'png_pipe']`. */
export async function probeMedia(file: string, inputArgs: string[] = []): Promise<MediaProbe> {
  const tools = await ensureFfmpeg();
  if (!tools.ffprobe) throw new DailiesError('missing_dependency', MISSING_FFPROBE);
  const data = await new Promise<Ffmpeg.FfprobeData>((resolve, reject) => {
    command(tools)
      .input(path.resolve(file))
      .ffprobe(0, inputArgs, (err: unknown, result: Ffmpeg.FfprobeData) => {
        if (err) reject(new FfmpegError('ffprobe failed', tail(err instanceof Error ? err.message : String(err))));
        else resolve(result);
      });
  });
  const stream = data.streams.find((s) => s.codec_type === 'video' && !s.disposition?.attached_pic);
  const duration = Number(data.format.duration);
  const probe: MediaProbe = { format: String(data.format.format_name ?? '') };
  if (Number.isFinite(duration)) probe.durationSec = duration;
  if (stream) {
    const frames = Number(stream.nb_frames);
    const rate = validRate(stream.avg_frame_rate) ?? validRate(stream.r_frame_rate) ?? '24/1';
    probe.video = {
      codec: String(stream.codec_name ?? ''),
      width: Number(stream.width ?? 0),
      height: Number(stream.height ?? 0),
      pixFmt: String(stream.pix_fmt ?? ''),
      frameRate: rate,
      rotation: Number(stream.rotation ?? stream.tags?.rotate ?? 0) || (isImagePipe(probe.format) ? await firstFrameRotation(tools.ffprobe, file, inputArgs) : 0),
      ...(Number.isInteger(frames) && frames > 0 ? { frames } : {}),
    };
  }
  return probe;
}

/** Single-image demuxers (png_pipe, jpeg_pipe, …): their orientation lives on the frame, not the stream. */
function isImagePipe(format: string): boolean {
  return /(^|,)\w+_pipe($|,)/.test(format);
}

/**
 * The rotation ffmpeg applies to an image's first frame when it decodes it: a phone photo's EXIF
 * orientation comes out as frame side data, which the stream probe above does not report, and
 * a portrait JPEG was then read at its stored size while ffmpeg turned it (a sheared picture).
 * 0 when ffprobe cannot say.
 */
async function firstFrameRotation(ffprobe: string, file: string, inputArgs: string[]): Promise<number> {
  const args = ['-v', 'error', ...inputArgs, '-select_streams', 'v:0', '-read_intervals', '%+#1', '-show_entries', 'frame_side_data=rotation', '-of', 'json', path.resolve(file)];
  const out = await new Promise<string>((resolve) => execFile(ffprobe, args, { timeout: 15_000, windowsHide: true }, (err, stdout) => resolve(err ? '' : stdout)));
  try {
    const parsed = JSON.parse(out) as { frames?: Array<{ side_data_list?: Array<{ rotation?: number }> }> };
    return Number(parsed.frames?.[0]?.side_data_list?.find((d) => d.rotation !== undefined)?.rotation ?? 0) || 0;
  } catch {
    return 0;
  }
}

function validRate(rate: string | undefined): string | undefined {
  if (!rate) return undefined;
  const [num, den] = rate.split('/').map(Number);
  return num && den && num > 0 && den > 0 ? rate : undefined;
}

/**
 * Runs one ffmpeg command. Frames and bytes are written to stdin respecting back-pressure
 * (the next frame is written only after 'drain'), so a streaming frame source is pulled no
 * faster than ffmpeg encodes and nothing queues up in the pipe. Aborting `signal` SIGKILLs ffmpeg and rejects with `cancelled`; a failed run rejects
 * with `FfmpegError`. Resolves with stdout when `output` is 'stdout', else an empty buffer.
 */
export async function runFfmpeg(job: FfmpegJob): Promise<Buffer> {
  const tools = await ensureFfmpeg();
  if (job.signal?.aborted) throw cancelled(job.signal);

  const cmd = command(tools);
  const { input } = job;
  // Errors only: the stderr tail kept for FfmpegError is then the actual complaint, not a banner.
  const quiet = ['-hide_banner', '-loglevel', 'error'];
  if ('path' in input) {
    // -nostdin: otherwise ffmpeg reads the unused stdin pipe as a keyboard for commands.
    cmd.input(path.resolve(input.path)).inputOptions([...quiet, '-nostdin', ...(input.args ?? [])]);
  } else if ('frames' in input) {
    const { width, height, fps } = input.frames;
    cmd
      .input('pipe:0')
      .inputOptions([...quiet, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${width}x${height}`, '-r', String(fps)]);
  } else {
    cmd.input('pipe:0').inputOptions([...quiet, ...(input.args ?? [])]);
  }
  cmd.outputOptions(job.outputArgs);

  const chunks: Buffer[] = [];
  // emitClose:false because fluent-ffmpeg treats an output stream's 'close' as "ffmpeg died"
  // if the process has not exited within 20 ms, which a busy machine easily exceeds.
  const sink = new Writable({
    emitClose: false,
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk);
      done();
    },
  });
  const sinkFinished = new Promise<void>((resolve) => sink.once('finish', resolve));
  if (job.output === 'stdout') cmd.output(sink);
  else cmd.output(path.resolve(job.output));
  // fluent-ffmpeg applies outputOptions to the output added last.
  for (const more of job.moreOutputs ?? []) cmd.output(path.resolve(more.path)).outputOptions(more.args);

  let proc: ChildProcess | undefined;
  let aborted = false;
  let feedError: unknown;
  const kill = () => {
    aborted = true;
    proc?.kill('SIGKILL');
  };
  job.signal?.addEventListener('abort', kill, { once: true });

  try {
    await new Promise<void>((resolve, reject) => {
      cmd.on('start', () => {
        // fluent-ffmpeg exposes the child only as this undocumented field, set just before 'start'.
        proc = (cmd as unknown as { ffmpegProc?: ChildProcess }).ffmpegProc;
        if (aborted) return void proc?.kill('SIGKILL');
        const stdin = proc?.stdin;
        if (!stdin) return;
        // EPIPE when ffmpeg exits early is expected; the exit status tells the real story.
        stdin.on('error', () => {});
        if ('path' in input) return void stdin.end();
        const source = 'frames' in input ? input.frames.frames : [input.bytes];
        feed(stdin, source).catch((err: unknown) => {
          feedError = err;
          proc?.kill('SIGKILL');
        });
      });
      cmd.on('error', (err: Error, _stdout: string | null, stderr: string | null) => {
        if (aborted && job.signal) return reject(cancelled(job.signal));
        if (feedError !== undefined) return reject(feedError);
        reject(new FfmpegError(err.message.split(':')[0] ?? 'ffmpeg failed', tail(stderr || err.message)));
      });
      cmd.on('end', () => {
        // 'end' fires on process exit; stdout may still be draining into the sink.
        if (job.output === 'stdout') sinkFinished.then(resolve, reject);
        else resolve();
      });
      cmd.run();
    });
  } finally {
    job.signal?.removeEventListener('abort', kill);
  }
  if (aborted && job.signal) throw cancelled(job.signal);
  return Buffer.concat(chunks);
}

async function feed(stdin: Writable, source: Iterable<Uint8Array> | AsyncIterable<Uint8Array>) {
  for await (const chunk of source) {
    if (stdin.destroyed || stdin.writableEnded) return;
    if (!stdin.write(chunk)) await drained(stdin);
  }
  if (!stdin.destroyed) stdin.end();
}

/** Resolves on 'drain', or when the pipe closes or fails (ffmpeg exited), so feeding never hangs. */
function drained(stream: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      stream.off('error', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
    stream.on('error', done);
  });
}

function cancelled(signal: AbortSignal): DailiesError {
  return new DailiesError('cancelled', CANCELLED, { cause: signal.reason });
}

function tail(text: string, maxChars = 1500): string {
  const trimmed = text.trim();
  return trimmed.length > maxChars ? `…${trimmed.slice(-maxChars)}` : trimmed;
}
