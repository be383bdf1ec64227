// The default tagger: deterministic rules over what Rekordbox already knows
// about a track (genre, BPM, key, year). Pure; the same track always gets the
// same tags, so its results are safe to cache and to compare in tests.
import type { TrackEntry } from './rekordbox-scan.js';
import type { Level, Tags } from './types.js';

type Energy = Tags['energy'];
type Situation = NonNullable<Tags['situation']>;

/** Genre families, for Grouping and for the situation rule; the first match wins. */
const FAMILIES: ReadonlyArray<readonly [family: string, pattern: RegExp, kind: 'club' | 'chill' | 'other']> = [
  ['Drum & Bass', /drum\s*(&|and|n)\s*bass|dnb|jungle|liquid/i, 'club'],
  ['Techno', /techno|industrial|minimal/i, 'club'],
  ['House', /house|garage|disco|nu.?disco|afro/i, 'club'],
  ['Trance', /trance|psy/i, 'club'],
  ['Bass', /dubstep|bass|breaks|electro|edm|big room/i, 'club'],
  ['Hip-Hop', /hip.?hop|rap|trap|r\s*&\s*b|rnb|soul|funk/i, 'other'],
  ['Pop', /pop|rock|indie|dance/i, 'other'],
  ['Chill', /ambient|chill|downtempo|lounge|jazz|classical|lo.?fi|trip.?hop/i, 'chill'],
];

export function genreFamily(genre: string): { family: string; kind: 'club' | 'chill' | 'other' } {
  for (const [family, pattern, kind] of FAMILIES) if (pattern.test(genre)) return { family, kind };
  return { family: genre.trim() === '' ? 'Unknown' : 'Other', kind: 'other' };
}

/** BPM bands: below 100 is low, below 122 medium, the rest high (a missing BPM counts as medium). */
export function energyOf(bpm: number): Energy {
  if (!Number.isFinite(bpm) || bpm <= 0) return 'medium';
  if (bpm < 100) return 'low';
  return bpm < 122 ? 'medium' : 'high';
}

/**
 * Minor keys sound dark, major ones bright. Rekordbox's Tonality is usually
 * "Am", "C#m", "F"; Camelot ("8A" minor, "8B" major) and Open Key ("1m", "1d")
 * are understood too. Anything else is neutral.
 */
export function moodOf(key: string): Tags['mood'] {
  const k = key.trim();
  if (/^[A-G][#b♯♭]?(m|min|minor)$/.test(k) || /^(1[0-2]|[1-9])(A|m)$/.test(k)) return 'dark';
  if (/^[A-G][#b♯♭]?(maj|major)?$/.test(k) || /^(1[0-2]|[1-9])(B|d)$/.test(k)) return 'bright';
  return 'neutral';
}

/** The decade, e.g. "1990s"; "unknown" without a plausible year. */
export function eraOf(year: number): string {
  if (!Number.isInteger(year) || year < 1900 || year > 2999) return 'unknown';
  return `${Math.floor(year / 10) * 10}s`;
}

/** Where in a night the track fits: club genres by energy, chill genres in the lounge, the rest at the party. */
export function situationOf(genre: string, energy: Energy): Situation {
  const { kind } = genreFamily(genre);
  if (kind === 'chill') return 'lounge';
  if (kind === 'club') return energy === 'high' ? 'peak-time' : energy === 'medium' ? 'warm-up' : 'after-hours';
  return energy === 'low' ? 'lounge' : energy === 'medium' ? 'warm-up' : 'party';
}

/** The rule-based tags of a track at a level (split tags like detailed). */
export function ruleTags(track: Pick<TrackEntry, 'genre' | 'bpm' | 'key' | 'year'>, level: Level): Tags {
  const energy = energyOf(track.bpm);
  const tags: Tags = { energy, mood: moodOf(track.key) };
  if (level === 'quick') return tags;
  return { ...tags, era: eraOf(track.year), situation: situationOf(track.genre, energy) };
}

/** The Comments text: `energy:high mood:dark era:2010s situation:peak-time`. */
export function commentsText(tags: Tags): string {
  const parts = [`energy:${tags.energy}`, `mood:${tags.mood}`];
  if (tags.era) parts.push(`era:${tags.era}`);
  if (tags.situation) parts.push(`situation:${tags.situation}`);
  return parts.join(' ');
}
