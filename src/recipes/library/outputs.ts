// The files a tagging job produces: the tagged library, the partial one a
// cancelled job leaves, and (split level) one library per genre. Pure.
import { applyEdits, removal, setAttributes, tagEdits, type Edit, type TrackWrite } from './rekordbox-rewrite.js';
import type { LibraryScan, TrackEntry } from './rekordbox-scan.js';
import { commentsText, genreFamily } from './rules-tagger.js';
import type { TrackOutcome } from './types.js';

export interface Output {
  name: string;
  xml: string;
  tracks: number;
}

/** At most this many genre files; smaller genres beyond it share one "Other genres" file. */
export const MAX_GENRE_FILES = 50;
const OTHER_GENRES = 'Other genres';
const NO_GENRE = 'No genre';

/**
 * A name safe as a file name anywhere (the platform sanitises artifact names
 * the same way; doing it here first lets us keep names unique): the last path
 * segment, letters, digits, ".", "_", "-" and spaces, no leading dot.
 */
export function safeName(raw: string, fallback: string): string {
  const cleaned = (raw.split(/[\\/]/).pop() ?? '')
    .normalize('NFKD')
    .replace(/[^A-Za-z0-9._ -]/g, '_')
    .replace(/^[. ]+/, '')
    .replace(/\s+$/, '')
    .slice(0, 100);
  return cleaned === '' || /^[_. ]+$/.test(cleaned) ? fallback : cleaned;
}

/** `My Library.xml` → `My Library.tagged.xml` and `My Library.tagged.partial.xml`. */
export function outputNames(fileName: string): { full: string; partial: string } {
  const stem = safeName(fileName.replace(/\.xml$/i, ''), 'library');
  return { full: `${stem}.tagged.xml`, partial: `${stem}.tagged.partial.xml` };
}

/** Comments get the tags; Grouping the genre family (House, Techno, …), a column Rekordbox sorts and filters on. */
export function trackWrites(scan: LibraryScan, outcomes: ReadonlyMap<number, TrackOutcome>): Map<number, TrackWrite> {
  const writes = new Map<number, TrackWrite>();
  for (const track of scan.tracks) {
    const tags = outcomes.get(track.index)?.tags;
    if (tags) writes.set(track.index, { comments: commentsText(tags), grouping: genreFamily(track.genre).family });
  }
  return writes;
}

/**
 * One library per genre (Genre attribute, case ignored), each a valid Rekordbox
 * file holding only that genre's tracks, tagged, with COLLECTION's Entries
 * updated. Playlists are dropped (an empty ROOT folder stays): they mix genres,
 * and a playlist pointing at tracks a file lacks would not import cleanly.
 */
export function genreLibraries(text: string, scan: LibraryScan, writes: ReadonlyMap<number, TrackWrite>, taken: Iterable<string>): Output[] {
  const groups = new Map<string, { genre: string; tracks: TrackEntry[] }>();
  for (const track of scan.tracks) {
    const genre = track.genre === '' ? NO_GENRE : track.genre;
    const id = genre.toLocaleLowerCase('en');
    const group = groups.get(id) ?? { genre, tracks: [] };
    group.tracks.push(track);
    groups.set(id, group);
  }
  let ordered = [...groups.values()].sort((a, b) => b.tracks.length - a.tracks.length || a.genre.localeCompare(b.genre));
  if (ordered.length > MAX_GENRE_FILES) {
    const rest = ordered.slice(MAX_GENRE_FILES - 1).flatMap((group) => group.tracks);
    ordered = [...ordered.slice(0, MAX_GENRE_FILES - 1), { genre: OTHER_GENRES, tracks: rest.sort((a, b) => a.index - b.index) }];
  }
  const used = new Set([...taken].map((name) => name.toLowerCase()));
  return ordered.map((group, n) => {
    // "Drum & Bass" → "Drum and Bass.xml" rather than "Drum _ Bass.xml".
    const name = uniqueName(`${safeName(group.genre.replace(/\s*&\s*/g, ' and '), `genre-${n + 1}`)}.xml`, used);
    return { name, xml: onlyTracks(text, scan, writes, new Set(group.tracks.map((t) => t.index))), tracks: group.tracks.length };
  });
}

function onlyTracks(text: string, scan: LibraryScan, writes: ReadonlyMap<number, TrackWrite>, keep: ReadonlySet<number>): string {
  const kept = new Map([...writes].filter(([index]) => keep.has(index)));
  const edits: Edit[] = tagEdits(text, scan, kept);
  for (const track of scan.tracks) if (!keep.has(track.index)) edits.push(removal(text, track.element));
  const collection = text.slice(scan.collectionTag.start, scan.collectionTag.end);
  edits.push({ ...scan.collectionTag, insert: setAttributes(collection, [['Entries', String(keep.size)]]) });
  if (scan.playlists) {
    const lineStart = text.lastIndexOf('\n', scan.playlists.start - 1) + 1;
    const indent = /^[ \t]*/.exec(text.slice(lineStart, scan.playlists.start))?.[0] ?? '';
    // The file's own line ending, as it is before the element.
    const eol = text[lineStart - 2] === '\r' ? '\r\n' : '\n';
    edits.push({ ...scan.playlists, insert: `<PLAYLISTS>${eol}${indent}  <NODE Type="0" Name="ROOT" Count="0"/>${eol}${indent}</PLAYLISTS>` });
  }
  return applyEdits(text, edits);
}

function uniqueName(name: string, used: Set<string>): string {
  let candidate = name;
  for (let n = 2; used.has(candidate.toLowerCase()); n++) candidate = name.replace(/\.xml$/, `-${n}.xml`);
  used.add(candidate.toLowerCase());
  return candidate;
}
