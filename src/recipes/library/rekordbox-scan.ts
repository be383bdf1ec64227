// Reads a Rekordbox XML library (DJ_PLAYLISTS / COLLECTION / TRACK) with saxes,
// keeping where every part is in the text so the rewriter can splice new
// attribute values into the original instead of re-serialising it.
// Pure: used by the route (to refuse a bad upload) and by the task.
import { setImmediate as nextTurn } from 'node:timers/promises';
import { SaxesParser, type SaxesTagPlain } from 'saxes';

/** Why an upload is not a library we can tag; the route answers it as a 400. */
export class LibraryXmlError extends Error {
  override readonly name = 'LibraryXmlError';
}

/** A range of the decoded text, in UTF-16 code units (JavaScript string indices). */
export interface Span {
  start: number;
  end: number;
}

export interface TrackEntry {
  /** 0-based position in COLLECTION. */
  index: number;
  /** The `<TRACK …>` (or `<TRACK …/>`) start tag. */
  tag: Span;
  /** The whole element, end tag included. */
  element: Span;
  trackId: string;
  title: string;
  artist: string;
  genre: string;
  /** AverageBpm; NaN when absent or not a number. */
  bpm: number;
  /** Tonality, e.g. "Am", "F#", "8A". */
  key: string;
  /** Year; 0 when absent. */
  year: number;
}

export interface LibraryScan {
  tracks: TrackEntry[];
  /** The `<COLLECTION …>` start tag (the split rewrites its Entries). */
  collectionTag: Span;
  /** The whole PLAYLISTS element, if any. */
  playlists: Span | null;
}

/**
 * UTF-8 only, checked strictly (invalid bytes are an error, not U+FFFD). A BOM
 * is kept in the text, so unchanged parts encode back to the same bytes.
 */
export function decodeLibrary(bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    throw new LibraryXmlError('the file is not UTF-8 text');
  }
}

const attribute = (tag: SaxesTagPlain, name: string): string => tag.attributes[name]?.trim() ?? '';

/** Characters parsed between two yields to the event loop (~25 ms of parsing). */
const SLICE = 1 << 20;

/**
 * Parses the whole library. Refuses any DOCTYPE outright: no DTD is read and no
 * entity beyond XML's five is ever expanded (billion laughs, XXE), which a
 * Rekordbox export never needs. Throws LibraryXmlError saying what is wrong.
 */
export function scanLibrary(text: string): LibraryScan {
  const reader = libraryReader(text);
  reader.write(0, text.length);
  return reader.finish();
}

/**
 * The same, a slice at a time with a turn of the event loop between slices: a
 * 20 MiB library takes about half a second to parse, which must not stall the
 * other requests an API process is serving (or a cancel reaching a task).
 */
export async function scanLibraryYielding(text: string, options: { signal?: AbortSignal; sliceChars?: number } = {}): Promise<LibraryScan> {
  const reader = libraryReader(text);
  const slice = options.sliceChars ?? SLICE;
  for (let start = 0; start < text.length; start += slice) {
    reader.write(start, Math.min(text.length, start + slice));
    await nextTurn();
    options.signal?.throwIfAborted();
  }
  return reader.finish();
}

function libraryReader(text: string): { write(start: number, end: number): void; finish(): LibraryScan } {
  const parser = new SaxesParser<{ xmlns: false; position: true }>({ xmlns: false, position: true });
  const stack: string[] = [];
  const tracks: TrackEntry[] = [];
  let collectionTag: Span | undefined;
  let playlistsStart = -1;
  let playlists: Span | null = null;
  let open: Omit<TrackEntry, 'element'> | undefined;
  // A start tag holds no literal "<" (not even in attribute values), so the last one before its end is where it begins.
  const tagSpan = (): Span => ({ start: text.lastIndexOf('<', parser.position - 1), end: parser.position });

  parser.on('doctype', () => {
    throw new LibraryXmlError('the file declares a DOCTYPE: DTDs and entity declarations are refused');
  });
  parser.on('xmldecl', (decl) => {
    if (decl.encoding !== undefined && !/^utf-?8$/i.test(decl.encoding)) throw new LibraryXmlError(`the file declares encoding "${decl.encoding}"; only UTF-8 is read`);
  });
  parser.on('opentag', (tag) => {
    const depth = stack.length;
    if (depth === 0 && tag.name !== 'DJ_PLAYLISTS') throw new LibraryXmlError(`the root element is <${tag.name}>, not <DJ_PLAYLISTS> (a Rekordbox XML export)`);
    if (depth === 1 && tag.name === 'COLLECTION') collectionTag ??= tagSpan();
    if (depth === 1 && tag.name === 'PLAYLISTS' && playlistsStart < 0) playlistsStart = tagSpan().start;
    if (depth === 2 && tag.name === 'TRACK' && stack[1] === 'COLLECTION') {
      open = {
        index: tracks.length,
        tag: tagSpan(),
        trackId: attribute(tag, 'TrackID'),
        title: attribute(tag, 'Name'),
        artist: attribute(tag, 'Artist'),
        genre: attribute(tag, 'Genre'),
        bpm: attribute(tag, 'AverageBpm') === '' ? Number.NaN : Number(attribute(tag, 'AverageBpm')),
        key: attribute(tag, 'Tonality'),
        year: Number.parseInt(attribute(tag, 'Year'), 10) || 0,
      };
    }
    stack.push(tag.name);
  });
  parser.on('closetag', (tag) => {
    stack.pop();
    if (open && stack.length === 2 && tag.name === 'TRACK') {
      tracks.push({ ...open, element: { start: open.tag.start, end: parser.position } });
      open = undefined;
    }
    if (stack.length === 1 && tag.name === 'PLAYLISTS' && playlists === null) playlists = { start: playlistsStart, end: parser.position };
  });

  const guarded = (step: () => void): void => {
    try {
      step();
    } catch (error) {
      if (error instanceof LibraryXmlError) throw error;
      throw new LibraryXmlError(`the file is not well-formed XML (${(error as Error).message})`);
    }
  };
  return {
    // Slices may cut a surrogate pair or a CRLF: saxes carries such a character over to the next write.
    write: (start, end) => guarded(() => parser.write(text.slice(start, end))),
    finish() {
      guarded(() => parser.close());
      if (!collectionTag) throw new LibraryXmlError('the library has no <COLLECTION> under <DJ_PLAYLISTS>');
      if (tracks.length === 0) throw new LibraryXmlError('the library has no tracks (no <TRACK> in <COLLECTION>)');
      return { tracks, collectionTag, playlists };
    },
  };
}
