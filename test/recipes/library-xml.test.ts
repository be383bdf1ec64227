// The library recipe's pure parts, checked directly: reading a Rekordbox
// library (and refusing what is not one), splicing tags into it, the rules,
// the per-genre split, and the settings read at start.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { genreLibraries, MAX_GENRE_FILES, outputNames, trackWrites } from '../../src/recipes/library/outputs.js';
import { escapeAttribute, setAttributes, taggedLibrary } from '../../src/recipes/library/rekordbox-rewrite.js';
import { decodeLibrary, LibraryXmlError, scanLibrary, scanLibraryYielding } from '../../src/recipes/library/rekordbox-scan.js';
import { eraOf, energyOf, genreFamily, moodOf, ruleTags, situationOf } from '../../src/recipes/library/rules-tagger.js';
import { librarySettings } from '../../src/recipes/library/settings.js';
import { cacheKey } from '../../src/recipes/library/tagger.js';
import type { TrackOutcome } from '../../src/recipes/library/types.js';
import { collectionTracks, generatedLibrary, libraryXml, ODD_LAYOUT, withoutWrittenAttributes } from '../fixtures/library/library-client.js';

const ODD = decodeLibrary(ODD_LAYOUT);
const refused = (text: string, pattern: RegExp) => assert.throws(() => scanLibrary(text), (error: Error) => error instanceof LibraryXmlError && pattern.test(error.message));

/** Every track tagged by the rules at `level`. */
function tagAll(text: string, level: 'quick' | 'detailed') {
  const scan = scanLibrary(text);
  const outcomes = new Map<number, TrackOutcome>(scan.tracks.map((t) => [t.index, { index: t.index, tags: ruleTags(t, level), cached: false }]));
  return { scan, writes: trackWrites(scan, outcomes) };
}

describe('reading a Rekordbox library', () => {
  test('finds the COLLECTION tracks (not the playlist entries, CDATA or comments) with their exact place in the text', () => {
    const scan = scanLibrary(ODD);
    assert.deepEqual(scan.tracks.map((t) => t.trackId), ['1', '2', '3', '4', '5']);
    for (const track of scan.tracks) {
      assert.match(ODD.slice(track.tag.start, track.tag.end), /^<TRACK[\s\S]*>$/);
      assert.match(ODD.slice(track.element.start, track.element.end), /^<TRACK[\s\S]*(\/>|<\/TRACK>)$/);
    }
    const [cafe, tokyo, etude] = scan.tracks;
    assert.equal(cafe!.title, 'Café del Mar (Energy 52 mix) & more', 'entities decoded');
    assert.equal(tokyo!.title, '東京の夜 🌃');
    assert.equal(tokyo!.bpm, 72);
    assert.equal(etude!.title, 'Étude "quoted"');
    assert.equal(etude!.key, '8A');
    assert.match(ODD.slice(etude!.element.start, etude!.element.end), /<POSITION_MARK Name="drop é"[\s\S]*<\/TRACK>$/);
    assert.equal(ODD.slice(scan.playlists!.start, scan.playlists!.start + 11), '<PLAYLISTS>');
  });

  test('parsing in slices (any size, even through a surrogate pair or a CRLF) finds the same', async () => {
    const whole = scanLibrary(ODD);
    for (const sliceChars of [1, 2, 3, 7, 64]) assert.deepEqual(await scanLibraryYielding(ODD, { sliceChars }), whole, `slices of ${sliceChars}`);
  });

  test('refuses a DOCTYPE of any kind: billion laughs, XXE, even a harmless one', () => {
    const bomb = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><DJ_PLAYLISTS><COLLECTION><TRACK Name="&lol2;"/></COLLECTION></DJ_PLAYLISTS>`;
    const xxe = `<?xml version="1.0"?><!DOCTYPE DJ_PLAYLISTS [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><DJ_PLAYLISTS><COLLECTION><TRACK Name="&xxe;"/></COLLECTION></DJ_PLAYLISTS>`;
    for (const text of [bomb, xxe, '<!DOCTYPE DJ_PLAYLISTS><DJ_PLAYLISTS><COLLECTION><TRACK/></COLLECTION></DJ_PLAYLISTS>']) refused(text, /DOCTYPE/);
  });

  test('refuses what is not a library: malformed, another root, no COLLECTION, no tracks, unknown entities, not UTF-8', () => {
    refused('<DJ_PLAYLISTS><COLLECTION><TRACK></COLLECTION></DJ_PLAYLISTS>', /not well-formed/);
    refused('', /not well-formed/);
    refused('<DJ_PLAYLISTS><COLLECTION><TRACK Name="&nope;"/></COLLECTION></DJ_PLAYLISTS>', /not well-formed/);
    refused('<rss><COLLECTION><TRACK/></COLLECTION></rss>', /root element is <rss>/);
    refused('<DJ_PLAYLISTS><PLAYLISTS/></DJ_PLAYLISTS>', /no <COLLECTION>/);
    refused('<DJ_PLAYLISTS><COLLECTION Entries="0"/><PLAYLISTS><NODE><TRACK Key="1"/></NODE></PLAYLISTS></DJ_PLAYLISTS>', /no tracks/);
    refused('<?xml version="1.0" encoding="ISO-8859-1"?><DJ_PLAYLISTS><COLLECTION><TRACK/></COLLECTION></DJ_PLAYLISTS>', /only UTF-8/);
    assert.throws(() => decodeLibrary(new Uint8Array([0x3c, 0xff, 0xfe, 0x3e])), /not UTF-8/);
  });
});

describe('writing tags into the library', () => {
  test('setAttributes replaces values in place (quotes, spacing kept) and adds missing ones after the last attribute', () => {
    assert.equal(setAttributes(`<TRACK A="1" Comments = 'old'   />`, [['Comments', 'new'], ['Grouping', 'House']]), `<TRACK A="1" Comments = 'new' Grouping="House"   />`);
    assert.equal(setAttributes('<TRACK>', [['Comments', 'x']]), '<TRACK Comments="x">');
    assert.equal(setAttributes('<TRACK\n\tName="a"\n>', [['Grouping', 'g']]), '<TRACK\n\tName="a" Grouping="g"\n>');
    assert.equal(escapeAttribute(`a&b<c>"d'\te\u0001`), 'a&amp;b&lt;c&gt;&quot;d&apos;&#9;e');
  });

  test('only the TRACK start tags change: a BOM, CRLFs, tabs, comments, CDATA, playlists and non-ASCII text stay byte for byte', () => {
    const { scan, writes } = tagAll(ODD, 'detailed');
    const out = taggedLibrary(ODD, scan, writes);
    const bytes = Buffer.from(out, 'utf8');
    assert.equal(bytes.subarray(0, 3).toString('hex'), 'efbbbf', 'the BOM is kept');
    assert.equal(withoutWrittenAttributes(out), withoutWrittenAttributes(ODD));
    assert.ok(Buffer.from(withoutWrittenAttributes(out), 'utf8').equals(Buffer.from(withoutWrittenAttributes(ODD), 'utf8')));
    const tracks = collectionTracks(out);
    assert.deepEqual(tracks.map((t) => t.Comments), [
      'energy:high mood:dark era:1990s situation:peak-time',
      'energy:low mood:bright era:1980s situation:lounge',
      'energy:medium mood:dark era:2000s situation:warm-up',
      'energy:medium mood:neutral era:unknown situation:warm-up',
      'energy:medium mood:dark era:2010s situation:warm-up',
    ]);
    assert.deepEqual(tracks.map((t) => t.Grouping), ['Trance', 'Chill', 'House', 'Unknown', 'House']);
    // The result is a library again, with the same tracks.
    assert.deepEqual(scanLibrary(out).tracks.map((t) => t.title), scan.tracks.map((t) => t.title));
  });

  test('a generated library keeps every byte outside its TRACK tags', () => {
    const text = generatedLibrary(40, 7).toString('utf8');
    const { scan, writes } = tagAll(text, 'quick');
    const out = taggedLibrary(text, scan, writes);
    assert.equal(withoutWrittenAttributes(out), withoutWrittenAttributes(text));
    assert.ok(collectionTracks(out).every((t) => /^energy:(low|medium|high) mood:(dark|bright|neutral)$/.test(t.Comments ?? '')));
  });

  test('split: one valid library per genre, only its tracks, Entries updated, playlists emptied, names safe and unique', () => {
    const { scan, writes } = tagAll(ODD, 'detailed');
    const files = genreLibraries(ODD, scan, writes, ['library.tagged.xml']);
    assert.deepEqual(files.map((f) => [f.name, f.tracks]), [['Deep House.xml', 2], ['Ambient.xml', 1], ['No genre.xml', 1], ['Trance.xml', 1]]);
    for (const file of files) {
      const again = scanLibrary(file.xml);
      assert.equal(again.tracks.length, file.tracks);
      assert.match(file.xml, new RegExp(`<COLLECTION\\tEntries = "${file.tracks}">`));
      assert.match(file.xml, /\n {2}<PLAYLISTS>\n {4}<NODE Type="0" Name="ROOT" Count="0"\/>\n {2}<\/PLAYLISTS>\n/);
      assert.ok(file.xml.includes('<![CDATA[ <TRACK Name="not a track"/> & raw ]]>'));
    }
    const deep = collectionTracks(files[0]!.xml);
    assert.deepEqual(deep.map((t) => t.Name), ['Étude "quoted"', 'Ñandú']);
    // Genres differing only in case share a file; names that would clash (or are taken) get a suffix.
    const mixed = libraryXml(['R&B', 'r&b', 'R and B', '日本', 'Trance'].map((Genre) => ({ Genre })));
    const clash = genreLibraries(mixed, scanLibrary(mixed), new Map(), ['Trance.xml']);
    assert.deepEqual(clash.map((f) => [f.name, f.tracks]), [['R and B.xml', 2], ['R and B-2.xml', 1], ['Trance-2.xml', 1], ['genre-4.xml', 1]]);
  });

  test(`split: past ${MAX_GENRE_FILES} genres, the smallest share one "Other genres" file`, () => {
    const xml = libraryXml(Array.from({ length: MAX_GENRE_FILES + 10 }, (_, i) => ({ Genre: `Genre ${String(i).padStart(2, '0')}`, Name: `t${i}` })).concat({ Genre: 'Genre 00', Name: 'again' }));
    const files = genreLibraries(xml, scanLibrary(xml), new Map(), []);
    assert.equal(files.length, MAX_GENRE_FILES);
    assert.deepEqual(files[0], { ...files[0]!, name: 'Genre 00.xml', tracks: 2 });
    assert.deepEqual(files.at(-1), { ...files.at(-1)!, name: 'Other genres.xml', tracks: 11 });
    assert.equal(files.reduce((sum, f) => sum + f.tracks, 0), MAX_GENRE_FILES + 11);
  });

  test('artifact names come from the upload’s last path segment, in safe characters', () => {
    assert.deepEqual(outputNames('../../x.xml'), { full: 'x.tagged.xml', partial: 'x.tagged.partial.xml' });
    assert.deepEqual(outputNames('C:\\music\\My Library.XML'), { full: 'My Library.tagged.xml', partial: 'My Library.tagged.partial.xml' });
    assert.deepEqual(outputNames('..'), { full: 'library.tagged.xml', partial: 'library.tagged.partial.xml' });
    assert.equal(outputNames('ライブラリ.xml').full, 'library.tagged.xml');
  });
});

describe('the rule-based tagger', () => {
  test('energy from BPM, mood from the key (Rekordbox, Camelot, Open Key), era from the year', () => {
    assert.deepEqual([energyOf(85), energyOf(100), energyOf(121.99), energyOf(122), energyOf(Number.NaN)], ['low', 'medium', 'medium', 'high', 'medium']);
    assert.deepEqual(['Am', 'C#m', 'Ebm', 'F', 'F#', 'Bb', '8A', '8B', '1m', '1d', '', '??'].map(moodOf), ['dark', 'dark', 'dark', 'bright', 'bright', 'bright', 'dark', 'bright', 'dark', 'bright', 'neutral', 'neutral']);
    assert.deepEqual([eraOf(1997), eraOf(2010), eraOf(0), eraOf(20010)], ['1990s', '2010s', 'unknown', 'unknown']);
  });

  test('situation from the genre family and energy; the levels add fields', () => {
    assert.equal(situationOf('Techno', 'high'), 'peak-time');
    assert.equal(situationOf('Deep House', 'medium'), 'warm-up');
    assert.equal(situationOf('Minimal Techno', 'low'), 'after-hours');
    assert.equal(situationOf('Ambient', 'high'), 'lounge');
    assert.equal(situationOf('Pop', 'high'), 'party');
    assert.equal(genreFamily('Drum & Bass').family, 'Drum & Bass');
    const track = { genre: 'Techno', bpm: 132, key: 'Am', year: 2014 };
    assert.deepEqual(ruleTags(track, 'quick'), { energy: 'high', mood: 'dark' });
    assert.deepEqual(ruleTags(track, 'detailed'), { energy: 'high', mood: 'dark', era: '2010s', situation: 'peak-time' });
    assert.deepEqual(ruleTags(track, 'split'), ruleTags(track, 'detailed'));
  });

  test('the cache key ignores case, Unicode composition and spacing; no title, no key', () => {
    assert.deepEqual(cacheKey({ artist: ' Röyksopp ', title: 'Eple  (Remix)' }), cacheKey({ artist: 'RO\u0308YKSOPP', title: 'eple (remix)' }));
    assert.equal(cacheKey({ artist: 'x', title: '  ' }), null);
  });
});

describe('settings read at start', () => {
  test('defaults, and a tagger only with both URL and model; a bad value names the variable', () => {
    assert.deepEqual(librarySettings({}), { maxUploadBytes: 20 * 1024 * 1024, llm: null });
    const llm = librarySettings({ TAGGER_URL: 'http://127.0.0.1:9/v1', TAGGER_MODEL: 'm', TAGGER_TIMEOUT_MS: '500', LIBRARY_MAX_UPLOAD_BYTES: '4096' });
    assert.deepEqual(llm, { maxUploadBytes: 4096, llm: { url: 'http://127.0.0.1:9/v1', model: 'm', timeoutMs: 500, attempts: 3, retryDelayMs: 500 } });
    assert.throws(() => librarySettings({ TAGGER_URL: 'http://x' }), /TAGGER_MODEL is required/);
    assert.throws(() => librarySettings({ LIBRARY_MAX_UPLOAD_BYTES: 'lots' }), /LIBRARY_MAX_UPLOAD_BYTES/);
    assert.throws(() => librarySettings({ TAGGER_URL: 'ftp://x', TAGGER_MODEL: 'm' }), /TAGGER_URL/);
  });
});
