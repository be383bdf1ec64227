#!/usr/bin/env node
// Writes a Rekordbox XML library of any size to stdout, the same bytes for the
// same --tracks and --seed: test data for the library recipe and its bench.
//
//   node scripts/generate-library.mjs --tracks 500 [--seed 1] > library.xml
//
// Plain Node (no build, no dependencies), so it runs anywhere the repo is
// checked out; the tests spawn it rather than import it.
import { pathToFileURL } from 'node:url';

const ARTISTS = [
  'Solar Drift', 'Nina Kraviz', 'Kölsch', 'Röyksopp', 'Sigur Rós', 'Beyoncé', 'DJ Kōji', '坂本 龍一',
  'Bicep', 'Floating Points', 'Amélie Lens', 'Moderat', 'Little Dragon', 'Jon Hopkins', 'Peggy Gou',
  'Four Tet', 'Sade', 'Goldie', 'Daft Punk', 'Nujabes', 'Ben Böhmer', 'Charlotte de Witte', 'Jamie xx',
  'Bonobo', 'Kerri Chandler', 'Róisín Murphy', 'Aphex Twin', 'Tycho', 'LTJ Bukem', 'Disclosure',
];
const WORDS = [
  'Midnight', 'Glow', 'Static', 'River', 'Echo', 'Velvet', 'Neon', 'Horizon', 'Pulse', 'Drift',
  'Ember', 'Signal', 'Tide', 'Mirage', 'Orbit', 'Shadow', 'Bloom', 'Cascade', 'Fever', 'Café',
  'Tokyo', '東京', 'Nuit', 'Süd', 'Afterglow', 'Sunrise', 'Undertow', 'Prism', 'Voltage', 'Haze',
];
/** Genre, BPM range, share (weights): roughly a club DJ's crate. */
const GENRES = [
  ['House', 118, 126, 6], ['Deep House', 115, 124, 4], ['Techno', 124, 140, 6], ['Drum & Bass', 170, 176, 3],
  ['Hip-Hop', 80, 100, 3], ['Pop', 95, 128, 2], ['Ambient', 60, 95, 2], ['Trance', 130, 140, 2],
  ['Disco', 110, 124, 2], ['R&B', 70, 105, 2],
];
const KEYS = ['Am', 'Em', 'Dm', 'Bm', 'F#m', 'C#m', 'G#m', 'Ebm', 'Bbm', 'Fm', 'Cm', 'Gm', 'C', 'G', 'D', 'A', 'E', 'B', 'F#', 'Db', 'Ab', 'Eb', 'Bb', 'F'];
const RATINGS = [0, 51, 102, 153, 204, 255];

/** A small seeded generator of floats in [0, 1): the same seed, the same library. */
function mulberry32(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const escape = (value) =>
  String(value).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);

/** Rekordbox writes Location as a file URL, each path segment percent-encoded. */
const location = (artist, name) =>
  `file://localhost/Users/dj/Music/${[artist, `${name}.mp3`].map((segment) => encodeURIComponent(segment)).join('/')}`;

/** The library as a string (UTF-8 XML, laid out as Rekordbox exports it). */
export function generateLibrary({ tracks, seed = 1 }) {
  const random = mulberry32(seed);
  const pick = (list) => list[Math.floor(random() * list.length)];
  const weightTotal = GENRES.reduce((sum, genre) => sum + genre[3], 0);
  const pickGenre = () => {
    let r = random() * weightTotal;
    for (const genre of GENRES) if ((r -= genre[3]) < 0) return genre;
    return GENRES[0];
  };
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>', '', '<DJ_PLAYLISTS Version="1.0.0">'];
  lines.push('  <PRODUCT Name="rekordbox" Version="6.8.5" Company="AlphaTheta"/>');
  lines.push(`  <COLLECTION Entries="${tracks}">`);
  const byGenre = new Map();
  const favourites = [];
  for (let id = 1; id <= tracks; id++) {
    const [genre, minBpm, maxBpm] = pickGenre();
    const artist = pick(ARTISTS);
    const name = `${pick(WORDS)} ${pick(WORDS)}${random() < 0.2 ? ` (${pick(['Extended Mix', 'Dub', 'Remix', 'Edit'])})` : ''}`;
    const bpm = (minBpm + random() * (maxBpm - minBpm)).toFixed(2);
    const year = 1975 + Math.floor(random() * 50);
    const seconds = 150 + Math.floor(random() * 420);
    const attributes = {
      TrackID: id, Name: name, Artist: artist, Composer: '', Album: `${pick(WORDS)} ${pick(['EP', 'LP', 'Sessions'])}`,
      Grouping: '', Genre: genre, Kind: 'MP3 File', Size: seconds * 40_000, TotalTime: seconds, DiscNumber: 0,
      TrackNumber: 1 + Math.floor(random() * 12), Year: year, AverageBpm: bpm,
      DateAdded: `20${String(15 + Math.floor(random() * 10))}-0${1 + Math.floor(random() * 9)}-1${Math.floor(random() * 10)}`,
      BitRate: 320, SampleRate: 44100, Comments: random() < 0.3 ? pick(['from vinyl', 'promo', 'check intro', '']) : '',
      PlayCount: Math.floor(random() * 40), Rating: pick(RATINGS), Location: location(artist, name), Remixer: '',
      Tonality: pick(KEYS), Label: pick(['Warp', 'Ninja Tune', 'Kompakt', 'Drumcode', 'Hyperdub']), Mix: '',
    };
    const open = `    <TRACK ${Object.entries(attributes).map(([key, value]) => `${key}="${escape(value)}"`).join(' ')}`;
    if (random() < 0.5) {
      // Analysed tracks carry a tempo grid and cue points as child elements.
      lines.push(`${open}>`);
      lines.push(`      <TEMPO Inizio="0.025" Bpm="${bpm}" Metro="4/4" Battito="1"/>`);
      lines.push(`      <POSITION_MARK Name="" Type="0" Start="${(random() * 30).toFixed(3)}" Num="-1"/>`);
      lines.push('    </TRACK>');
    } else {
      lines.push(`${open}/>`);
    }
    if (!byGenre.has(genre)) byGenre.set(genre, []);
    byGenre.get(genre).push(id);
    if (id % 7 === 0) favourites.push(id);
  }
  lines.push('  </COLLECTION>');
  const house = byGenre.get('House') ?? [];
  lines.push('  <PLAYLISTS>');
  lines.push('    <NODE Type="0" Name="ROOT" Count="2">');
  for (const [name, ids] of [['House', house], ['Favourites', favourites]]) {
    lines.push(`      <NODE Name="${name}" Type="1" KeyType="0" Entries="${ids.length}">`);
    for (const id of ids) lines.push(`        <TRACK Key="${id}"/>`);
    lines.push('      </NODE>');
  }
  lines.push('    </NODE>');
  lines.push('  </PLAYLISTS>');
  lines.push('</DJ_PLAYLISTS>');
  return `${lines.join('\n')}\n`;
}

function parseArgs(argv) {
  const options = { tracks: 500, seed: 1 };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = Number(argv[i + 1]);
    if (flag !== '--tracks' && flag !== '--seed') throw new Error(`unknown option ${flag} (use --tracks N [--seed S])`);
    const min = flag === '--tracks' ? 1 : 0;
    if (!Number.isInteger(value) || value < min || value > 10_000_000) throw new Error(`${flag} takes an integer from ${min} to 10000000`);
    options[flag.slice(2)] = value;
    i++;
  }
  return options;
}

// Run as a script (not imported): write the library to stdout.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    process.stdout.write(generateLibrary(parseArgs(process.argv.slice(2))));
  } catch (error) {
    process.stderr.write(`generate-library: ${error.message}\n`);
    process.exit(2);
  }
}
