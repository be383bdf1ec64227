// The optional tagger: any OpenAI-compatible chat-completions endpoint
// (TAGGER_URL, TAGGER_MODEL). Called from the task's sandbox thread, so a
// cancel aborts the request in flight. A timeout or an answer that does not
// parse is retried; a track the model cannot tag is reported, never thrown.
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import type { TrackEntry } from './rekordbox-scan.js';
import { ENERGIES, ERA, MOODS, SITUATIONS, type Level, type LlmSettings, type Tags } from './types.js';

export type TagAttempt = { ok: true; tags: Tags } | { ok: false; reason: string };

type TrackFacts = Pick<TrackEntry, 'artist' | 'title' | 'genre' | 'bpm' | 'key' | 'year'>;

/** A failed call; `final` when trying again cannot help (the endpoint refuses the request itself). */
class TaggerCallError extends Error {
  constructor(
    message: string,
    readonly final = false,
  ) {
    super(message);
  }
}

const ChatCompletion = z.object({ choices: z.array(z.object({ message: z.object({ content: z.string() }) })).min(1) });

const word = <const T extends readonly [string, ...string[]]>(values: T) => z.string().trim().toLowerCase().pipe(z.enum(values));
const Answer = z.object({
  energy: word(ENERGIES),
  mood: word(MOODS),
  era: z.string().trim().toLowerCase().regex(ERA).optional(),
  situation: word(SITUATIONS).optional(),
});

const SYSTEM_PROMPT = [
  'You tag tracks in a DJ library. Answer with one JSON object and nothing else:',
  '{"energy": "low"|"medium"|"high", "mood": "dark"|"bright"|"neutral",',
  ' "era": a decade like "1990s" or "unknown", "situation": "warm-up"|"peak-time"|"after-hours"|"lounge"|"party"}.',
  'Give only the fields the user asks for.',
].join('\n');

/** The identity of this tagger in the tag cache: tags of another model are not reused. */
export const llmTaggerId = (settings: LlmSettings): string => `llm:${settings.model}`;

/** Asks the model for a track's tags: up to `attempts` calls, with a doubling pause between them. */
export async function llmTags(settings: LlmSettings, track: TrackFacts, level: Level, signal: AbortSignal): Promise<TagAttempt> {
  let reason = 'no attempt was made';
  for (let attempt = 1; attempt <= settings.attempts; attempt++) {
    signal.throwIfAborted();
    try {
      return { ok: true, tags: await askOnce(settings, track, level, signal) };
    } catch (error) {
      // A cancel is the job's business, not a tagger failure.
      if (signal.aborted) throw signal.reason;
      reason = (error as Error).message;
      if (error instanceof TaggerCallError && error.final) break;
    }
    if (attempt < settings.attempts) await sleep(settings.retryDelayMs * 2 ** (attempt - 1), undefined, { signal });
  }
  return { ok: false, reason: `the tagger gave no usable answer: ${reason}` };
}

async function askOnce(settings: LlmSettings, track: TrackFacts, level: Level, signal: AbortSignal): Promise<Tags> {
  const fields = level === 'quick' ? ['energy', 'mood'] : ['energy', 'mood', 'era', 'situation'];
  const facts = { artist: track.artist, title: track.title, genre: track.genre, bpm: Number.isFinite(track.bpm) ? track.bpm : null, key: track.key, year: track.year || null };
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (settings.apiKey) headers.authorization = `Bearer ${settings.apiKey}`;
  let body: unknown;
  try {
    // The timeout covers the whole call, the answer's body included.
    const callSignal = AbortSignal.any([signal, AbortSignal.timeout(settings.timeoutMs)]);
    const res = await fetch(`${settings.url.replace(/\/+$/, '')}/chat/completions`, {
      method: 'POST',
      headers,
      signal: callSignal,
      body: JSON.stringify({
        model: settings.model,
        temperature: 0,
        response_format: { type: 'json_object' },
        messages: [
          { role: 'system', content: SYSTEM_PROMPT },
          { role: 'user', content: `Fields: ${fields.join(', ')}.\nTrack: ${JSON.stringify(facts)}` },
        ],
      }),
    });
    if (!res.ok) throw new TaggerCallError(`HTTP ${res.status}`, [400, 401, 403, 404].includes(res.status));
    body = await res.json();
  } catch (error) {
    if (error instanceof TaggerCallError) throw error;
    const name = (error as Error).name;
    throw new TaggerCallError(name === 'TimeoutError' ? `no answer within ${settings.timeoutMs} ms` : `the call failed (${(error as Error).message})`);
  }
  const completion = ChatCompletion.safeParse(body);
  if (!completion.success) throw new TaggerCallError('the answer is not a chat completion');
  const answer = Answer.safeParse(parseJsonObject(completion.data.choices[0]!.message.content));
  if (!answer.success) throw new TaggerCallError(`the answer is not valid tags (${answer.error.issues[0]?.message ?? 'invalid'})`);
  const { energy, mood, era, situation } = answer.data;
  if (level === 'quick') return { energy, mood };
  if (era === undefined || situation === undefined) throw new TaggerCallError('the answer lacks era or situation');
  return { energy, mood, era, situation };
}

/** The model's text as JSON, tolerating a Markdown code fence around it. */
function parseJsonObject(content: string): unknown {
  const unfenced = content.trim().replace(/^```(?:json)?\s*([\s\S]*?)\s*```$/i, '$1');
  try {
    return JSON.parse(unfenced);
  } catch {
    return undefined;
  }
}
