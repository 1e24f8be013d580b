/**
 * Demuxers we let ffmpeg use on files from users. ffmpeg will otherwise read almost anything,
 * including text (as "ANSI art") and HLS/concat playlists, which make it open other local
 * files or URLs: a known way to leak files from bots that transcode uploads. Both ffprobe and
 * ffmpeg get the list through `-format_whitelist`, so probe and decode see the same thing.
 */
export const IMAGE_DEMUXERS = ['png_pipe', 'jpeg_pipe', 'webp_pipe', 'bmp_pipe', 'tiff_pipe', 'gif', 'apng'] as const;

export const VIDEO_DEMUXERS = [...IMAGE_DEMUXERS, 'mov', 'mp4', 'm4a', '3gp', '3g2', 'mj2', 'matroska', 'webm'] as const;

/** Input options restricting ffmpeg/ffprobe to `demuxers` and to plain local files. */
export function restrictedInputArgs(demuxers: readonly string[]): string[] {
  return ['-format_whitelist', demuxers.join(','), '-protocol_whitelist', 'file'];
}
