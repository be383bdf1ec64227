// Writes tags into a Rekordbox library by splicing the original text: only the
// attribute values it sets change, every other character (whitespace, comments,
// CDATA, attribute order and quotes, PLAYLISTS) stays as it was. Pure.
import type { LibraryScan, Span } from './rekordbox-scan.js';

/** Replace `text.slice(start, end)` by `insert`. */
export interface Edit extends Span {
  insert: string;
}

/** What is written into one TRACK: its Comments and Grouping attributes. */
export interface TrackWrite {
  comments: string;
  grouping: string;
}

// Characters XML forbids even as references (C0 controls but TAB/LF/CR, U+FFFE/FFFF, lone surrogates): dropped.
const FORBIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;', '\t': '&#9;', '\n': '&#10;', '\r': '&#13;' };

/** An attribute value, escaped for either quote (and so that a parser's whitespace normalisation keeps tabs and newlines). */
export function escapeAttribute(value: string): string {
  return value.replace(FORBIDDEN, '').replace(/[&<>"'\t\n\r]/g, (c) => ESCAPES[c] ?? c);
}

// name = "value" | name='value'; a well-formed start tag has no "<" and balanced quotes, so this cannot misread one.
const ATTRIBUTE = /([^\s=/>]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;

/**
 * Sets attributes in one start tag's text (`<TRACK …>` or `<TRACK …/>`): an
 * existing value is replaced in place (its quotes and spacing kept); a missing
 * attribute is added after the last one, so the tag's closing whitespace stays.
 */
export function setAttributes(tag: string, values: ReadonlyArray<readonly [name: string, value: string]>): string {
  const nameEnd = /^<[^\s/>]+/.exec(tag)?.[0].length ?? 0;
  const found = new Map<string, Span>();
  let lastEnd = nameEnd;
  ATTRIBUTE.lastIndex = nameEnd;
  for (let m = ATTRIBUTE.exec(tag); m; m = ATTRIBUTE.exec(tag)) {
    const valueEnd = m.index + m[0].length - 1;
    const valueStart = valueEnd - (m[2] ?? m[3] ?? '').length;
    if (!found.has(m[1]!)) found.set(m[1]!, { start: valueStart, end: valueEnd });
    lastEnd = m.index + m[0].length;
  }
  const edits: Edit[] = [];
  let added = '';
  for (const [name, value] of values) {
    const span = found.get(name);
    if (span) edits.push({ ...span, insert: escapeAttribute(value) });
    else added += ` ${name}="${escapeAttribute(value)}"`;
  }
  if (added) edits.push({ start: lastEnd, end: lastEnd, insert: added });
  return applyEdits(tag, edits);
}

/** Applies non-overlapping edits (in any order) to `text`. */
export function applyEdits(text: string, edits: readonly Edit[]): string {
  const sorted = [...edits].sort((a, b) => a.start - b.start || a.end - b.end);
  const parts: string[] = [];
  let at = 0;
  for (const edit of sorted) {
    if (edit.start < at) throw new RangeError(`overlapping edits at ${edit.start}`);
    parts.push(text.slice(at, edit.start), edit.insert);
    at = edit.end;
  }
  parts.push(text.slice(at));
  return parts.join('');
}

/** The edits that write each track's tags into its start tag. */
export function tagEdits(text: string, scan: LibraryScan, writes: ReadonlyMap<number, TrackWrite>): Edit[] {
  const edits: Edit[] = [];
  for (const track of scan.tracks) {
    const write = writes.get(track.index);
    if (!write) continue;
    const tag = text.slice(track.tag.start, track.tag.end);
    edits.push({ ...track.tag, insert: setAttributes(tag, [['Comments', write.comments], ['Grouping', write.grouping]]) });
  }
  return edits;
}

/** The whole library with the tags written in; tracks without a write are left as they were. */
export function taggedLibrary(text: string, scan: LibraryScan, writes: ReadonlyMap<number, TrackWrite>): string {
  return applyEdits(text, tagEdits(text, scan, writes));
}

/** Removes a whole element together with the indentation and line break before it, keeping the layout tidy. */
export function removal(text: string, element: Span): Edit {
  let start = element.start;
  while (start > 0 && (text[start - 1] === ' ' || text[start - 1] === '\t')) start--;
  if (text[start - 1] === '\n') start--;
  if (text[start - 1] === '\r') start--;
  return { start, end: element.end, insert: '' };
}
