// The library recipe with an OpenAI-compatible tagger (TAGGER_URL and
// TAGGER_MODEL set when the recipe starts), on every backend: the model's tags
// land in the library, a second job asks the model nothing, and a track the
// model answers badly or too slowly is left untagged while the job completes.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { BACKENDS, startTaskyard, type StartedTaskyard, waitForTerminal } from '../helpers/taskyard.js';
import { FAKE_TAGS, startFakeTagger, type FakeTagger } from '../fixtures/library/fake-tagger.js';
import { collectionTracks, download, generatedLibrary, jobEvents, libraryXml, uploadLibrary } from '../fixtures/library/library-client.js';

const MAX_UPLOAD_BYTES = 64 * 1024;
const SETTINGS = { TAGGER_MODEL: 'test-model', TAGGER_API_KEY: 'sk-test', TAGGER_TIMEOUT_MS: '1000', TAGGER_RETRY_DELAY_MS: '50', LIBRARY_MAX_UPLOAD_BYTES: String(MAX_UPLOAD_BYTES) };
const COMMENTS = `energy:${FAKE_TAGS.energy} mood:${FAKE_TAGS.mood} era:${FAKE_TAGS.era} situation:${FAKE_TAGS.situation}`;

const track = (Name: string, Artist = 'Moderat') => ({ Name, Artist, Genre: 'Techno', AverageBpm: '128.00', Tonality: 'Am', Year: '2013' });

/** Starts Taskyard with the library recipe while the tagger's variables are set (they are read at start). */
async function startWithTagger(backend: (typeof BACKENDS)[number], tagger: FakeTagger): Promise<StartedTaskyard> {
  const env = { ...SETTINGS, TAGGER_URL: tagger.url };
  const saved = Object.fromEntries(Object.keys(env).map((key) => [key, process.env[key]]));
  Object.assign(process.env, env);
  try {
    return await startTaskyard(backend, { recipes: ['library'], tasks: [] });
  } finally {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}

async function run(ty: StartedTaskyard, xml: string | Uint8Array, level: string) {
  const accepted = await uploadLibrary(ty.url, xml, { config: JSON.stringify({ level }) });
  assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
  const job = await waitForTerminal(ty.url, accepted.body.id);
  assert.equal(job.status, 'completed', JSON.stringify(job.error));
  const partials = (await jobEvents(ty.url, job.id)).filter((e) => e.type === 'partial').map((e) => e.data);
  return { job, partials };
}

for (const backend of BACKENDS) {
  describe(`library recipe with an LLM tagger [${backend}]`, () => {
    let tagger: FakeTagger;
    let ty: StartedTaskyard;
    before(async () => {
      // Slow enough to time out every call, even on a busy machine where a prompt answer may take a few hundred ms.
      tagger = await startFakeTagger({ slowMs: 5000 });
      ty = await startWithTagger(backend, tagger);
    });
    after(async () => {
      await ty?.stop();
      await tagger?.close();
    });

    test('tracks are tagged by the model; a second job on the same library asks it nothing', async () => {
      const xml = libraryXml([track('Bad Kingdom'), track('A New Error'), track('Rusty Nails', 'Moderat & Friends'), track('Running', 'Jessie Ware')]);
      tagger.calls.length = 0;
      const first = await run(ty, xml, 'detailed');
      assert.equal(first.job.result.tagger, 'llm:test-model');
      assert.equal(first.job.result.tagged, 4);
      assert.deepEqual(tagger.calls.map((c) => c.title), ['Bad Kingdom', 'A New Error', 'Rusty Nails', 'Running']);
      assert.ok(tagger.calls.every((c) => c.model === 'test-model' && c.authorization === 'Bearer sk-test'));
      assert.ok(first.partials.every((p) => p.status === 'tagged' && !p.cached));
      assert.deepEqual(first.partials[0].tags, FAKE_TAGS, 'capitals and the code fence are tolerated');
      const out = collectionTracks((await download(ty.url, first.job.result.artifacts[0].url)).toString('utf8'));
      assert.deepEqual(out.map((t) => t.Comments), Array(4).fill(COMMENTS));

      const second = await run(ty, xml, 'detailed');
      assert.equal(tagger.calls.length, 4, 'the tagger was not called again');
      assert.ok(second.partials.every((p) => p.cached && p.status === 'tagged'));
      assert.equal(second.job.result.cached, 4);
    });

    test('a track answered with garbage or too slowly is left untagged after 3 tries; the job completes', async () => {
      const xml = libraryXml([track('Intro'), track('Garbage Track'), track('Slowpoke Groove'), track('Flaky Tune'), track('Outro')]);
      tagger.calls.length = 0;
      const { job, partials } = await run(ty, xml, 'quick');
      assert.deepEqual({ tagged: job.result.tagged, untagged: job.result.untagged }, { tagged: 3, untagged: 2 });
      assert.deepEqual(partials.map((p) => [p.title, p.status]), [
        ['Intro', 'tagged'],
        ['Garbage Track', 'untagged'],
        ['Slowpoke Groove', 'untagged'],
        ['Flaky Tune', 'tagged'],
        ['Outro', 'tagged'],
      ]);
      assert.match(partials[1].reason, /not valid tags/);
      assert.match(partials[2].reason, /no answer within 1000 ms/);
      assert.deepEqual([tagger.callsFor('Garbage'), tagger.callsFor('Slowpoke'), tagger.callsFor('Flaky')], [3, 3, 2], 'retried, then given up');
      const out = collectionTracks((await download(ty.url, job.result.artifacts[0].url)).toString('utf8'));
      assert.deepEqual(out.map((t) => t.Comments), ['energy:high mood:neutral', undefined, undefined, 'energy:high mood:neutral', 'energy:high mood:neutral'], 'untagged tracks are left as they were');

      // Untagged tracks are not cached: the next job asks again (and only for them).
      tagger.calls.length = 0;
      const again = await run(ty, xml, 'quick');
      assert.equal(again.job.result.cached, 3);
      assert.deepEqual(new Set(tagger.calls.map((c) => c.title)), new Set(['Garbage Track', 'Slowpoke Groove']));
    });

    test('LIBRARY_MAX_UPLOAD_BYTES sets the size limit: over it, a 413', async () => {
      const big = generatedLibrary(200);
      assert.ok(big.length > MAX_UPLOAD_BYTES);
      const res = await uploadLibrary(ty.url, big);
      assert.equal(res.status, 413);
      assert.equal(res.body.error.code, 'TASKYARD_ERR_BODY_TOO_LARGE');
      assert.match(res.body.error.message, new RegExp(`${MAX_UPLOAD_BYTES} bytes`));
    });
  });
}
