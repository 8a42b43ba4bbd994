/**
 * The pure parts of the item-compression benchmark (bench/item-compression.ts, issue 15): the
 * compression methods it compares, the preset dictionaries they use and the arithmetic of its
 * tables. A dictionary measured on an event must not hold that event's bytes, or it measures a
 * compressor that already knows the answer: the fixture dictionary is built leave-one-out, and the
 * catalog dictionary holds names only (field and event names, no event's data).
 */
import zlib from 'node:zlib';

/** The most a deflate preset dictionary can use (its window): longer dictionaries keep their tail. */
export const DICT_MAX_BYTES = 32 * 1024;
/** One write unit's worth of item (docs/aws-facts.md §1.6). */
export const UNIT_BYTES = 1024;
/**
 * Bytes a non-gzip payload would add: a format byte in front of it, so items written today (gzip,
 * first byte 0x1f) stay readable next to the new format.
 */
export const FORMAT_MARKER_BYTES = 1;

/** The last `max` bytes of `text` (deflate codes short distances cheaper, so what matters most goes last). */
export function tailBytes(text: string | Buffer, max: number = DICT_MAX_BYTES): Buffer {
  const b = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  return b.length > max ? b.subarray(b.length - max) : b;
}

/**
 * The dictionary for an event grown from `leaveOut`: every other sample verbatim, then each of
 * them compact (the bench bodies are either), never `leaveOut` itself.
 */
export function leaveOneOutDictionary(samples: ReadonlyMap<string, Buffer>, leaveOut: string, max: number = DICT_MAX_BYTES): Buffer {
  const others = [...samples].filter(([name]) => name !== leaveOut).map(([, body]) => body.toString('utf8'));
  return tailBytes(others.join('') + others.map((t) => JSON.stringify(JSON.parse(t))).join(''), max);
}

/**
 * The field names a catalog source file declares (`name:` at the start of a line, comments
 * stripped), counted: a regex read, so it needs no running of the catalog.
 */
export function declaredFieldNames(source: string, counts: Map<string, number> = new Map()): Map<string, number> {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
  for (const m of code.matchAll(/^\s+([A-Za-z_][A-Za-z0-9_]*)\s*:/gm)) counts.set(m[1] as string, (counts.get(m[1] as string) ?? 0) + 1);
  return counts;
}

/**
 * The catalog-names dictionary: the event names as `{"event":"…"}`, the field names (rarest first)
 * as `"k":null,` and `"k": ` (compact and pretty JSON) and the envelope every entity carries.
 */
export function catalogNamesDictionary(
  fieldCounts: ReadonlyMap<string, number>,
  eventNames: readonly string[],
  max: number = DICT_MAX_BYTES,
): Buffer {
  const keys = [...fieldCounts].sort((a, b) => a[1] - b[1]).map(([k]) => k);
  return tailBytes(
    `{"event":"${eventNames.join('"}{"event":"')}"}` +
      keys.map((k) => `"${k}":null,`).join('') +
      keys.map((k) => `"${k}": `).join('') +
      '"data":{"isDeleted":false,"flagCount":0,"hashFlag":null,"metadata":{},"tags":[],"createdAt":"","updatedAt":""}',
    max,
  );
}

/** One way to compress the payload attribute; `sample` picks the leave-one-out dictionary. */
export interface CompressionMethod {
  readonly id: string;
  readonly label: string;
  readonly compress: (body: Buffer, sample: string) => Buffer;
  readonly decompress: (stored: Buffer, sample: string) => Buffer;
  /** Bytes the item needs besides the compressed bytes (the format marker; 0 for gzip, today's format). */
  readonly markerBytes: number;
}

/** The dictionaries the dictionary methods use. */
export interface Dictionaries {
  /** The leave-one-out fixture dictionary for an event grown from `sample`. */
  readonly fixtures: (sample: string) => Buffer;
  readonly catalogNames: Buffer;
}

const Z = zlib.constants;
const brotliOptions = (quality: number, size: number): zlib.BrotliOptions => ({
  params: { [Z.BROTLI_PARAM_QUALITY]: quality, [Z.BROTLI_PARAM_MODE]: Z.BROTLI_MODE_TEXT, [Z.BROTLI_PARAM_SIZE_HINT]: size },
});
const brotli = (quality: number): Pick<CompressionMethod, 'compress' | 'decompress'> => ({
  compress: (body) => zlib.brotliCompressSync(body, brotliOptions(quality, body.length)),
  decompress: (stored) => zlib.brotliDecompressSync(stored),
});
const rawWith = (dict: (sample: string) => Buffer): Pick<CompressionMethod, 'compress' | 'decompress'> => ({
  compress: (body, sample) => zlib.deflateRawSync(body, { level: 9, dictionary: dict(sample) }),
  decompress: (stored, sample) => zlib.inflateRawSync(stored, { dictionary: dict(sample) }),
});

/** The methods compared, today's first (lambda/adapters/dynamodb-store.ts `toItem`: gzipSync at its default level). */
export function compressionMethods(dicts: Dictionaries): CompressionMethod[] {
  const gunzip = (stored: Buffer) => zlib.gunzipSync(stored);
  return [
    { id: 'today', label: "today's gzip (level 6, toItem)", compress: (b) => zlib.gzipSync(b), decompress: gunzip, markerBytes: 0 },
    { id: 'gzip9', label: 'gzip -9', compress: (b) => zlib.gzipSync(b, { level: 9 }), decompress: gunzip, markerBytes: 0 },
    {
      id: 'raw9',
      label: 'raw deflate -9',
      compress: (b) => zlib.deflateRawSync(b, { level: 9 }),
      decompress: (s) => zlib.inflateRawSync(s),
      markerBytes: FORMAT_MARKER_BYTES,
    },
    { id: 'br5', label: 'brotli q5 text', ...brotli(5), markerBytes: FORMAT_MARKER_BYTES },
    { id: 'br11', label: 'brotli q11 text', ...brotli(11), markerBytes: FORMAT_MARKER_BYTES },
    { id: 'rawNames', label: 'raw deflate -9 + catalog-names dict', ...rawWith(() => dicts.catalogNames), markerBytes: FORMAT_MARKER_BYTES },
    { id: 'rawFixtures', label: 'raw deflate -9 + other-fixtures dict (LOO)', ...rawWith(dicts.fixtures), markerBytes: FORMAT_MARKER_BYTES },
  ];
}

/** The share (0-1) of `itemBytes` that fit one write unit. */
export function shareInOneUnit(itemBytes: readonly number[]): number {
  return itemBytes.length === 0 ? 0 : itemBytes.filter((b) => b <= UNIT_BYTES).length / itemBytes.length;
}

/**
 * The bytes the non-payload attributes would have to lose for `share` (0-1) of the items to fit one
 * write unit: the smallest cut that brings that many items to ≤ 1,024 B (0 when they already fit).
 */
export function cutNeeded(itemBytes: readonly number[], share: number): number {
  if (itemBytes.length === 0) return 0;
  const over = itemBytes.map((b) => Math.max(0, b - UNIT_BYTES)).sort((a, b) => a - b);
  const count = Math.max(1, Math.ceil(share * over.length));
  return over[count - 1] as number;
}
