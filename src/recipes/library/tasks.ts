// The library recipe's task, run in a sandbox thread: the upload, the tag cache
// and the job's progress rows are reached through the worker's `library` host.
// It must not import the recipe or routes modules (they bring Fastify).
import { setTimeout as sleep } from 'node:timers/promises';
import { PermanentError } from '../../errors.js';
import { defineTask, type Remote, type TaskContext } from '../../tasks/define-task.js';
import { genreLibraries, outputNames, trackWrites, type Output } from './outputs.js';
import { taggedLibrary } from './rekordbox-rewrite.js';
import { decodeLibrary, LibraryXmlError, scanLibraryYielding, type LibraryScan } from './rekordbox-scan.js';
import { cacheKey, cacheLevel, taggerFor } from './tagger.js';
import { TrackRecorder } from './track-recorder.js';
import { LIBRARY_HOST, LibraryTagInput, TAG_TASK, type CacheKey, type Level, type LibraryHost, type Tags, type TrackOutcome } from './types.js';

type CacheLevel = Exclude<Level, 'split'>;

export const libraryTag = defineTask({
  name: TAG_TASK,
  description: 'Tags every track of a Rekordbox library (rules, or an OpenAI-compatible model): one partial per track, resumable, cancellable',
  input: LibraryTagInput,
  retry: { attempts: 3, backoff: { type: 'exponential', delayMs: 1000 } },
  async run(input, ctx) {
    const host = ctx.host<LibraryHost>(LIBRARY_HOST);
    const { data, llm } = await host.open(input.uploadId, ctx.jobId);
    const text = await readLibrary(data, ctx.signal);
    const scan = await scanOrFail(text, ctx.signal);
    const tagger = taggerFor(llm);
    const level = cacheLevel(input.level);
    const total = scan.tracks.length;

    // A re-run (after a crash, or a retry) starts after what earlier runs stored.
    const done = new Map((await host.doneTracks(ctx.jobId)).map((outcome) => [outcome.index, outcome]));
    const resumed = done.size;
    if (resumed > 0) ctx.log(`resumed: ${resumed} of ${total} tracks were tagged by an earlier run`);
    const todo = scan.tracks.filter((track) => !done.has(track.index));
    const keys = todo.map((track) => cacheKey(track));
    const cached = await lookUpCache(host, level, tagger.id, keys);
    const recorder = new TrackRecorder(ctx, host, level, tagger.id, done);
    ctx.progress({ current: recorder.count, total, message: resumed > 0 ? `resuming after ${resumed} tracks` : 'tagging' });

    try {
      for (const [i, track] of todo.entries()) {
        ctx.signal.throwIfAborted();
        const hit = cached[i];
        let outcome: TrackOutcome;
        if (hit) outcome = { index: track.index, tags: hit, cached: true };
        else {
          const answer = await tagger.tag(track, input.level, ctx.signal);
          outcome = answer.ok ? { index: track.index, tags: answer.tags, cached: false } : { index: track.index, tags: null, cached: false, reason: answer.reason };
        }
        await recorder.add(track, outcome, keys[i] ?? null);
        ctx.progress({ current: recorder.count, total, message: `${track.artist || 'unknown artist'} – ${track.title || `track ${track.trackId}`}` });
        if (input.trackDelayMs > 0) await sleep(input.trackDelayMs, undefined, { signal: ctx.signal });
      }
      await recorder.flush();
    } catch (error) {
      if (cancelled(ctx)) await keepPartial(ctx, host, recorder, text, scan, input.fileName);
      throw error;
    }

    const outcomes = recorder.recorded;
    const writes = trackWrites(scan, outcomes);
    const names = outputNames(input.fileName);
    const outputs: Output[] = [{ name: names.full, xml: taggedLibrary(text, scan, writes), tracks: total }];
    if (input.level === 'split') outputs.push(...genreLibraries(text, scan, writes, [names.full, names.partial]));
    const artifacts = [];
    for (const output of outputs) {
      const stored = await ctx.artifact(output.name, output.xml, { contentType: 'application/xml' });
      artifacts.push({ name: stored.name, tracks: output.tracks, size: stored.size, url: artifactUrl(ctx.jobId, stored.name) });
    }
    // Everything is in the artifacts now; a re-run after this point finds the tags in the cache.
    await host.forgetJob(ctx.jobId);
    const tagged = [...outcomes.values()].filter((o) => o.tags !== null).length;
    return {
      tracks: total,
      tagged,
      untagged: total - tagged,
      cached: [...outcomes.values()].filter((o) => o.cached).length,
      resumed,
      level: input.level,
      tagger: tagger.id,
      artifacts,
    };
  },
});

const artifactUrl = (jobId: string, name: string): string => `/v1/jobs/${encodeURIComponent(jobId)}/artifacts/${encodeURIComponent(name)}`;

const cancelled = (ctx: TaskContext): boolean =>
  ctx.signal.aborted && (ctx.signal.reason as { code?: unknown } | undefined)?.code === 'TASKYARD_ERR_CANCELLED';

/** The route checked the upload; one that no longer reads is not worth retrying. */
async function readLibrary(data: Uint8Array, signal: AbortSignal): Promise<string> {
  signal.throwIfAborted();
  try {
    return decodeLibrary(data);
  } catch (error) {
    throw error instanceof LibraryXmlError ? new PermanentError(`The upload is not a library: ${error.message}`) : error;
  }
}

async function scanOrFail(text: string, signal: AbortSignal): Promise<LibraryScan> {
  try {
    return await scanLibraryYielding(text, { signal });
  } catch (error) {
    throw error instanceof LibraryXmlError ? new PermanentError(`The upload is not a library: ${error.message}`) : error;
  }
}

/** Cached tags for each key (null for no key, or a miss), in one host call. */
async function lookUpCache(host: Remote<LibraryHost>, level: CacheLevel, tagger: string, keys: ReadonlyArray<CacheKey | null>): Promise<Array<Tags | null>> {
  const present = keys.flatMap((key, i) => (key ? [{ i, key }] : []));
  const found = await host.cachedTags(level, tagger, present.map((p) => p.key));
  const byTrack: Array<Tags | null> = keys.map(() => null);
  present.forEach((p, n) => (byTrack[p.i] = found[n] ?? null));
  return byTrack;
}

/**
 * A cancelled job keeps what it did: the library with the tracks tagged so far
 * (the others untouched), as `<name>.tagged.partial.xml`. Written within the
 * cancel grace; if it fails, the cancel still goes through. A cancelled job
 * never runs again, so its progress rows go.
 */
async function keepPartial(ctx: TaskContext, host: Remote<LibraryHost>, recorder: TrackRecorder, text: string, scan: LibraryScan, fileName: string): Promise<void> {
  try {
    await recorder.flush();
    const xml = taggedLibrary(text, scan, trackWrites(scan, recorder.recorded));
    await ctx.artifact(outputNames(fileName).partial, xml, { contentType: 'application/xml' });
    await host.forgetJob(ctx.jobId);
    ctx.log(`cancelled after ${recorder.recorded.size} of ${scan.tracks.length} tracks: the partial library is kept`);
  } catch (error) {
    ctx.log(`cancelled; the partial library could not be stored (${(error as Error).message})`);
  }
}
