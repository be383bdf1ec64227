// A worker process killed (SIGKILL) in the middle of a library job: another
// worker re-runs the job and starts after the tracks the dead one had stored,
// so the tagger is never asked again about a track the client was already told
// about, and the downloaded library is complete.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { killAllCli, spawnCli, waitForJob, type CliProcess } from '../helpers/cli-process.js';
import { DATABASE_URL, dropSchemas, isolatedStorage, startTaskyard, type BackendName, type StartedTaskyard } from '../helpers/taskyard.js';
import { startFakeTagger, type FakeTagger } from '../fixtures/library/fake-tagger.js';
import { collectionTracks, download, jobEvents, libraryXml, until, uploadLibrary } from '../fixtures/library/library-client.js';

const TRACKS = 30;
const LOCK_MS = 1000;
const titles = Array.from({ length: TRACKS }, (_, i) => `Track ${String(i + 1).padStart(2, '0')}`);
const LIBRARY = libraryXml(titles.map((Name) => ({ Name, Artist: 'Four Tet', Genre: 'House', AverageBpm: '124', Tonality: 'Dm', Year: '2020' })));

for (const backend of ['postgres', 'redis'] as const satisfies readonly BackendName[]) {
  describe(`a library job whose worker dies mid-job [${backend}]`, () => {
    const storage = isolatedStorage(backend);
    let api: StartedTaskyard | undefined;
    let tagger: FakeTagger;
    // A Redis worker still needs the database: the recipe's tables (and artifacts) live there.
    const storageArgs = [
      ...(backend === 'redis' ? ['--redis', storage.redisUrl!, '--redis-prefix', storage.redisPrefix!] : []),
      ...['--database', DATABASE_URL, '--history-schema', storage.historySchema!, '--engine-schema', storage.engineSchema!],
    ];
    const startWorker = async (): Promise<CliProcess> => {
      const worker = spawnCli(['worker', ...storageArgs, '--recipes', 'library', '--no-builtins', '--concurrency', '1', '--lock-duration', String(LOCK_MS)], {
        TAGGER_URL: tagger.url,
        TAGGER_MODEL: 'test-model',
      });
      await worker.waitForOutput(/Taskyard worker \d+ is running/);
      return worker;
    };

    before(async () => {
      // Every answer takes a while, so the job is still running when its worker is killed.
      tagger = await startFakeTagger({ delayMs: 120 });
      api = await startTaskyard(backend, { role: 'api', ...storage, recipes: ['library'], tasks: [], builtins: false });
    });
    after(async () => {
      await killAllCli();
      await api?.stop();
      await tagger?.close();
      await dropSchemas(storage);
    });

    test('the re-run resumes after the stored tracks: no track is tagged twice, the library comes out whole', { timeout: 90_000 }, async () => {
      const first = await startWorker();
      const accepted = await uploadLibrary(api!.url, LIBRARY, { config: '{"level":"quick"}' }, 'crash.xml');
      assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
      const { id } = accepted.body;
      await until('a few tracks tagged', async () => ((await jobEvents(api!.url, id)).filter((e) => e.type === 'partial').length >= 8 ? true : undefined));
      await first.kill();

      const toldBefore = new Set((await jobEvents(api!.url, id)).filter((e) => e.type === 'partial').map((e) => e.data.title as string));
      const callsBefore = tagger.calls.length;
      assert.ok(toldBefore.size >= 8 && toldBefore.size < TRACKS, `${toldBefore.size} tracks before the crash`);

      await startWorker();
      const job = await waitForJob(api!.url, id, (j) => ['completed', 'failed', 'cancelled'].includes(j.status), 60_000);
      assert.equal(job.status, 'completed', JSON.stringify(job.error));
      assert.equal(job.result.tracks, TRACKS);
      assert.equal(job.result.tagged, TRACKS);
      assert.ok(job.result.resumed >= toldBefore.size, `resumed after ${job.result.resumed}`);

      const askedAfter = tagger.calls.slice(callsBefore).map((c) => c.title);
      assert.deepEqual(askedAfter.filter((title) => toldBefore.has(title)), [], 'no track the client had heard of was tagged again');
      // At most the one track in flight when the worker died is asked twice.
      assert.ok(tagger.calls.length <= TRACKS + 1, `${tagger.calls.length} calls for ${TRACKS} tracks`);

      const events = await jobEvents(api!.url, id);
      const statuses = events.filter((e) => e.type === 'status').map((e) => `${e.data.status}#${e.data.attempt ?? ''}`);
      assert.deepEqual(statuses, ['queued#', 'active#1', 'active#2', 'completed#2']);
      const secondRun = events.findIndex((e) => e.type === 'status' && e.data.attempt === 2);
      const partials = events.map((e, i) => ({ ...e, i })).filter((e) => e.type === 'partial');
      const afterCrash = partials.filter((p) => p.i > secondRun).map((p) => p.data.title as string);
      assert.deepEqual(afterCrash.filter((title) => toldBefore.has(title)), [], 'the second run streams only new tracks');
      assert.ok(events.some((e) => e.type === 'log' && /^resumed: \d+ of 30 tracks/.test(e.data.message)));

      const xml = (await download(api!.url, job.result.artifacts[0].url)).toString('utf8');
      assert.deepEqual(collectionTracks(xml).map((t) => t.Comments), Array(TRACKS).fill('energy:high mood:neutral'));
    });
  });
}
