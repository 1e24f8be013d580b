import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { crc32 } from 'node:zlib';

/**
 * Images for upload tests, made by the real ffmpeg, and the metadata a phone photo carries: an
 * EXIF block with a GPS position and an orientation (in a JPEG's APP1, or a PNG's eXIf chunk beside
 * a text chunk), built byte by byte so a test knows exactly what must disappear.
 */

const run = promisify(execFile);

/**
 * A still of ffmpeg's test pattern (or a flat colour), `size` like "64x32", written to `dir/name`
 * (the extension picks the format). Scaled to size, because lavfi sources round sizes to even.
 */
export async function testImage(dir: string, name: string, size: string, fill: 'pattern' | 'flat' = 'pattern'): Promise<Buffer> {
  const path = join(dir, name);
  const [width, height] = size.split('x');
  const source = fill === 'pattern' ? 'testsrc2=size=64x32' : 'color=c=red:size=64x32';
  await run('/usr/bin/ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', source, '-vf', `scale=${width}:${height}`, '-frames:v', '1', path]);
  return readFile(path);
}

/** The GPS position written into the EXIF block: 52°31'12" N, 13°24'36" E. */
export const GPS_RATIONALS = [
  [52, 1],
  [31, 1],
  [12, 1],
  [13, 1],
  [24, 1],
  [36, 1],
] as const;

/** `jpeg` with an APP1 EXIF segment right after SOI: IFD0 holds `orientation` and a pointer to a GPS IFD. */
export function withExifGps(jpeg: Buffer, orientation: number): Buffer {
  const payload = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), exifTiff(orientation)]);
  const header = Buffer.alloc(4);
  header.writeUInt16BE(0xffe1, 0);
  header.writeUInt16BE(payload.length + 2, 2);
  return Buffer.concat([jpeg.subarray(0, 2), header, payload, jpeg.subarray(2)]);
}

/** `png` with a text chunk (`note`) and an eXIf chunk holding the same GPS block, after IHDR. */
export function withPngMetadata(png: Buffer, note: string): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  // Signature (8) and IHDR (25) come first.
  return Buffer.concat([png.subarray(0, 33), chunk('tEXt', Buffer.from(`Comment\0${note}`, 'latin1')), chunk('eXIf', exifTiff(1)), png.subarray(33)]);
}

function exifTiff(orientation: number): Buffer {
  // Little-endian TIFF: header, IFD0 (2 entries), GPS IFD (4 entries), then the two RATIONAL[3] values.
  const ifd0 = 8;
  const gps = ifd0 + 2 + 2 * 12 + 4;
  const lat = gps + 2 + 4 * 12 + 4;
  const lon = lat + 24;
  const tiff = Buffer.alloc(lon + 24);
  tiff.write('II', 0, 'latin1');
  tiff.writeUInt16LE(42, 2);
  tiff.writeUInt32LE(ifd0, 4);
  let at = 0;
  const entry = (tag: number, type: number, count: number, value: (offset: number) => void) => {
    tiff.writeUInt16LE(tag, at);
    tiff.writeUInt16LE(type, at + 2);
    tiff.writeUInt32LE(count, at + 4);
    value(at + 8);
    at += 12;
  };
  const SHORT = 3;
  const LONG = 4;
  const ASCII = 2;
  const RATIONAL = 5;
  tiff.writeUInt16LE(2, ifd0);
  at = ifd0 + 2;
  entry(0x0112, SHORT, 1, (o) => tiff.writeUInt16LE(orientation, o));
  entry(0x8825, LONG, 1, (o) => tiff.writeUInt32LE(gps, o));
  tiff.writeUInt16LE(4, gps);
  at = gps + 2;
  entry(0x0001, ASCII, 2, (o) => tiff.write('N\0', o, 'latin1'));
  entry(0x0002, RATIONAL, 3, (o) => tiff.writeUInt32LE(lat, o));
  entry(0x0003, ASCII, 2, (o) => tiff.write('E\0', o, 'latin1'));
  entry(0x0004, RATIONAL, 3, (o) => tiff.writeUInt32LE(lon, o));
  GPS_RATIONALS.forEach(([n, d], i) => {
    tiff.writeUInt32LE(n, lat + i * 8);
    tiff.writeUInt32LE(d, lat + i * 8 + 4);
  });
  return tiff;
}

/** The markers of a JPEG's segments up to the image data (0xffe1 is APP1, where EXIF and XMP live). */
export function jpegMarkers(jpeg: Buffer): number[] {
  const markers: number[] = [];
  let at = 2;
  while (at + 4 <= jpeg.length && jpeg[at] === 0xff) {
    const marker = jpeg.readUInt16BE(at);
    markers.push(marker);
    if (marker === 0xffda) break;
    at += 2 + jpeg.readUInt16BE(at + 2);
  }
  return markers;
}

/** The GPS latitude as its TIFF bytes (three little-endian rationals), to look for anywhere in a file. */
export function gpsLatitudeBytes(): Buffer {
  const bytes = Buffer.alloc(24);
  GPS_RATIONALS.slice(0, 3).forEach(([n, d], i) => {
    bytes.writeUInt32LE(n, i * 8);
    bytes.writeUInt32LE(d, i * 8 + 4);
  });
  return bytes;
}
