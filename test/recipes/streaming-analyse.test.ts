// The document-analysis scanner on its own: chunk boundaries, case, overlaps, snippets.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { chunkEnds, scanChunks, snippetAt, type KeywordMatch } from '../../src/recipes/streaming/analyse.js';

const DOCUMENT = readFileSync(new URL('../fixtures/documents/known-matches.txt', import.meta.url), 'utf8');
const KEYWORDS = ['queue', 'worker', 'stream', 'partial result'];

const scan = (text: string, keywords: readonly string[], maxChunk?: number): Array<KeywordMatch & { end: number }> =>
  [...scanChunks(text, keywords, maxChunk === undefined ? {} : { maxChunk })].flatMap((chunk) => chunk.matches.map((m) => ({ ...m, end: chunk.end })));

/** Where each match starts, found the slow, obvious way (the fixture lower-cases without changing length). */
function offsets(text: string, keywords: readonly string[]): Array<{ index: number; keyword: string }> {
  const lower = text.toLowerCase();
  const found = keywords.flatMap((keyword, order) => {
    const at: Array<{ index: number; keyword: string; order: number }> = [];
    for (let i = lower.indexOf(keyword.toLowerCase()); i !== -1; i = lower.indexOf(keyword.toLowerCase(), i + keyword.length)) at.push({ index: i, keyword, order });
    return at;
  });
  return found.sort((a, b) => a.index - b.index || a.order - b.order);
}

describe('document-analysis scanner', () => {
  test('finds the hand-counted matches of the test document, in text order', () => {
    const matches = scan(DOCUMENT, KEYWORDS);
    const counts = Object.fromEntries(KEYWORDS.map((k) => [k, matches.filter((m) => m.keyword === k).length]));
    assert.deepEqual(counts, { queue: 6, worker: 4, stream: 4, 'partial result': 2 });
    assert.deepEqual(
      matches.map((m) => m.line),
      [1, 2, 2, 2, 2, 4, 4, 4, 6, 8, 8, 8, 9, 9, 9, 10],
    );
    assert.equal(matches[0]!.snippet, 'Queue first: this line starts with ', 'clipped at the start of the text');
    assert.equal(matches.at(-1)!.snippet, 'ine, ending on a keyword: the worker\n', 'clipped at the end of the text');
  });

  test('chunking never changes what is found, and a match straddling a boundary is found once, in the chunk it starts in', () => {
    const whole = scan(DOCUMENT, KEYWORDS, 65_536).map(({ keyword, line, snippet }) => ({ keyword, line, snippet }));
    const expected = offsets(DOCUMENT, KEYWORDS);
    for (const maxChunk of [1, 2, 3, 5, 8, 16, 40, 100]) {
      const ends = chunkEnds(DOCUMENT, maxChunk);
      const chunked = scan(DOCUMENT, KEYWORDS, maxChunk);
      assert.deepEqual(chunked.map(({ keyword, line, snippet }) => ({ keyword, line, snippet })), whole, `maxChunk ${maxChunk}`);
      let straddling = 0;
      chunked.forEach((match, i) => {
        const { index, keyword } = expected[i]!;
        const start = match.chunk === 0 ? 0 : ends[match.chunk - 1]!;
        assert.ok(start <= index && index < match.end, `match ${i} belongs to chunk ${match.chunk} [${start}, ${match.end})`);
        if (index + keyword.length > match.end) straddling++;
      });
      if (maxChunk === 16) assert.ok(straddling > 0, 'the test document has a match across a chunk boundary at maxChunk 16');
    }
  });

  test('chunks are irregular, within [maxChunk / 4, maxChunk], and the same for the same text', () => {
    const ends = chunkEnds(DOCUMENT, 16);
    assert.deepEqual(ends, chunkEnds(DOCUMENT, 16));
    assert.equal(ends.at(-1), DOCUMENT.length);
    const sizes = ends.map((end, i) => end - (ends[i - 1] ?? 0));
    assert.ok(sizes.slice(0, -1).every((size) => size >= 4 && size <= 16), `sizes ${sizes.join(',')}`);
    assert.ok(new Set(sizes).size > 3, 'sizes vary');
    assert.notDeepEqual(chunkEnds(`${DOCUMENT}!`, 16), ends, 'another text splits otherwise');
  });

  test('matching ignores case, finds keywords inside words, and never overlaps one keyword with itself', () => {
    assert.deepEqual(
      scan('Streaming STREAMS', ['stream', 'streaming']).map((m) => m.keyword),
      ['stream', 'streaming', 'stream'],
      'two keywords at one place come in the order of the keywords',
    );
    for (const maxChunk of [1, 2, 3, 7]) {
      assert.equal(scan('aaaaa', ['aa'], maxChunk).length, 2, `aaaaa has two "aa" (maxChunk ${maxChunk})`);
    }
    assert.equal(scan('axb a.b (x) [y]', ['a.b', '(x)', '[y]']).length, 3, 'regular-expression characters are literal');
  });

  test('a line is counted from 1 and a match on a newline-separated line gets its own line', () => {
    assert.deepEqual(
      scan('x\n\nkey\r\nkey key\n', ['key']).map((m) => m.line),
      [3, 4, 4],
    );
  });

  test('a snippet is ±30 characters and never cuts a surrogate pair', () => {
    const text = `${'🚀'.repeat(20)}needle${'🚀'.repeat(20)}`;
    const snippet = snippetAt(text, 40, 6);
    assert.equal(snippet, `${'🚀'.repeat(15)}needle${'🚀'.repeat(15)}`);
    assert.ok(!/\p{Surrogate}/u.test(snippetAt(text, 40 - 1, 6)), 'well-formed even at an odd offset');
    assert.equal(snippetAt('0123456789'.repeat(10), 50, 5), '0123456789'.repeat(10).slice(20, 85));
  });
});
