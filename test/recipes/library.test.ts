// The library recipe through its public routes, on every backend: a Rekordbox
// library uploaded as a form, tagged in a worker with progress and a partial
// per track, downloaded as XML (per genre too), cached across jobs, cancelled
// with what it did kept — and every kind of bad upload refused before a job exists.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BACKENDS, getJson, postJson, type StartedTaskyard, useTaskyard, waitForTerminal } from '../helpers/taskyard.js';
import { collectionTracks, download, generatedLibrary, jobEvents, libraryXml, ODD_LAYOUT, until, uploadLibrary, withoutWrittenAttributes } from '../fixtures/library/library-client.js';

const LIBRARY = generatedLibrary(60, 3);
const TAGS = /^energy:(low|medium|high) mood:(dark|bright|neutral) era:(\d{4}s|unknown) situation:(warm-up|peak-time|after-hours|lounge|party)$/;

const BOMB = `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<DJ_PLAYLISTS Version="1.0.0"><COLLECTION Entries="1"><TRACK TrackID="1" Name="&lol9;"/></COLLECTION></DJ_PLAYLISTS>`;
const XXE = `<?xml version="1.0"?>
<!DOCTYPE DJ_PLAYLISTS [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<DJ_PLAYLISTS Version="1.0.0"><COLLECTION Entries="1"><TRACK TrackID="1" Name="&xxe;"/></COLLECTION></DJ_PLAYLISTS>`;

async function tagged(ty: StartedTaskyard, file: Uint8Array | string, config: unknown, fileName = 'library.xml') {
  const accepted = await uploadLibrary(ty.url, file, config === undefined ? {} : { config: JSON.stringify(config) }, fileName);
  assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
  const job = await waitForTerminal(ty.url, accepted.body.id);
  assert.equal(job.status, 'completed', JSON.stringify(job.error));
  return { accepted: accepted.body, job, events: await jobEvents(ty.url, accepted.body.id) };
}

const libraryJobs = async (ty: StartedTaskyard): Promise<number> => (await getJson(`${ty.url}/v1/jobs?task=library-tag&limit=100`)).body.jobs.length;

for (const backend of BACKENDS) {
  describe(`library recipe [${backend}]`, () => {
    let ty!: StartedTaskyard;
    useTaskyard(backend, { recipes: ['library'], tasks: [] }, (started) => (ty = started));

    test('an upload answers 202 at once; the job streams progress and one partial per track, then the tagged XML downloads', async () => {
      const accepted = await uploadLibrary(ty.url, LIBRARY, { config: JSON.stringify({ level: 'detailed', trackDelayMs: 25 }) }, 'My Set.xml');
      assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
      const { id, displayName, tracks, links } = accepted.body;
      assert.match(displayName, /^My Set\.xml – Tagging \(\d{4}-\d\d-\d\d \d\d:\d\d UTC\)$/);
      assert.equal(tracks, 60);
      assert.deepEqual(links, { self: `/v1/jobs/${id}`, events: `/v1/jobs/${id}/events`, cancel: `/v1/jobs/${id}/cancel`, artifacts: `/v1/jobs/${id}/artifacts` });
      // Nothing waits on the job: the API answers while it works.
      const running = await until('the job to report progress', async () => {
        const { body } = await getJson(`${ty.url}/v1/jobs/${id}`);
        return body.status === 'active' && body.progress?.current > 0 ? body : undefined;
      });
      assert.ok(running.progress.current < 60);
      assert.equal(running.input.displayName, displayName);

      const job = await waitForTerminal(ty.url, id);
      assert.equal(job.status, 'completed', JSON.stringify(job.error));
      const events = await jobEvents(ty.url, id);
      const progress = events.filter((e) => e.type === 'progress').map((e) => e.data);
      assert.ok(progress.length >= 2);
      assert.ok(progress.every((p, i) => p.total === 60 && (i === 0 || p.current >= progress[i - 1].current)), 'progress only grows');
      assert.deepEqual(progress.at(-1), { ...progress.at(-1), current: 60, total: 60, percent: 100 });
      assert.match(progress.at(-1).message, / – /, 'the message names the track');
      const partials = events.filter((e) => e.type === 'partial').map((e) => e.data);
      assert.deepEqual(partials.map((p) => p.index), Array.from({ length: 60 }, (_, i) => i));
      assert.ok(partials.every((p) => p.status === 'tagged' && p.cached === false && p.tags.era !== undefined));

      assert.deepEqual(job.result, {
        tracks: 60, tagged: 60, untagged: 0, cached: 0, resumed: 0, level: 'detailed', tagger: 'rules',
        artifacts: [{ name: 'My Set.tagged.xml', tracks: 60, size: job.result.artifacts[0].size, url: `/v1/jobs/${id}/artifacts/My%20Set.tagged.xml` }],
      });
      const xml = (await download(ty.url, job.result.artifacts[0].url)).toString('utf8');
      assert.equal(withoutWrittenAttributes(xml), withoutWrittenAttributes(LIBRARY.toString('utf8')), 'untouched outside the TRACK tags');
      const written = collectionTracks(xml);
      written.forEach((track, i) => {
        const { energy, mood, era, situation } = partials[i].tags;
        assert.equal(track.Comments, `energy:${energy} mood:${mood} era:${era} situation:${situation}`);
        assert.match(track.Comments!, TAGS);
        assert.ok(track.Grouping);
      });
    });

    test('odd layout, comments, CDATA, playlists, é and 日本: only the TRACK start tags change', async () => {
      const { job } = await tagged(ty, ODD_LAYOUT, { level: 'quick' }, 'odd.xml');
      const out = await download(ty.url, job.result.artifacts[0].url);
      assert.ok(Buffer.from(withoutWrittenAttributes(out.toString('utf8'))).equals(Buffer.from(withoutWrittenAttributes(ODD_LAYOUT.toString('utf8')))));
      assert.ok(out.subarray(0, 3).equals(Buffer.from([0xef, 0xbb, 0xbf])), 'the BOM is still there');
      const tracks = collectionTracks(out.toString('utf8'));
      assert.equal(tracks[1]!.Name, '東京の夜 🌃');
      assert.equal(tracks[1]!.Comments, 'energy:low mood:bright');
      assert.equal(tracks[0]!.Comments, 'energy:high mood:dark', 'an existing comment is replaced');
      assert.equal(tracks[0]!.Grouping, 'Trance');
    });

    test('split: the tagged library plus one library per genre, each with only its tracks', async () => {
      const { job } = await tagged(ty, LIBRARY, { level: 'split' });
      const [full, ...genres] = job.result.artifacts as Array<{ name: string; tracks: number; url: string }>;
      assert.equal(full!.name, 'library.tagged.xml');
      assert.ok(genres.length >= 5);
      assert.ok(genres.some((g) => g.name === 'Drum and Bass.xml'));
      const listed = (await getJson(`${ty.url}/v1/jobs/${job.id}/artifacts`)).body.artifacts.map((a: { name: string }) => a.name);
      assert.deepEqual(listed.sort(), job.result.artifacts.map((a: { name: string }) => a.name).sort());
      const seen: string[] = [];
      for (const genre of genres) {
        const xml = (await download(ty.url, genre.url)).toString('utf8');
        const tracks = collectionTracks(xml);
        assert.equal(tracks.length, genre.tracks);
        assert.match(xml, new RegExp(`<COLLECTION Entries="${genre.tracks}">`));
        assert.equal(new Set(tracks.map((t) => t.Genre!.replace('&amp;', 'and'))).size, 1, `${genre.name} holds one genre`);
        assert.ok(tracks.every((t) => TAGS.test(t.Comments ?? '')));
        assert.match(xml, /<PLAYLISTS>\n {4}<NODE Type="0" Name="ROOT" Count="0"\/>\n {2}<\/PLAYLISTS>/);
        seen.push(...tracks.map((t) => t.TrackID!));
      }
      assert.deepEqual(seen.map(Number).sort((a, b) => a - b), Array.from({ length: 60 }, (_, i) => i + 1), 'every track in exactly one genre file');
    });

    test('a second job on the same library reuses the cached tags', async () => {
      // Titles no other test uses, so only this test's jobs fill the cache for them.
      const library = libraryXml(Array.from({ length: 25 }, (_, i) => ({ Name: `Cache me ${i}`, Artist: 'Caribou', Genre: 'House', AverageBpm: 120 + i, Tonality: 'Am', Year: 2010 })));
      const first = await tagged(ty, library, { level: 'quick' });
      const second = await tagged(ty, library, { level: 'quick' });
      const partials = (events: Array<{ type: string; data: any }>) => events.filter((e) => e.type === 'partial').map((e) => e.data);
      assert.ok(partials(first.events).every((p) => !p.cached));
      assert.ok(partials(second.events).every((p) => p.cached), 'every track came from the cache');
      assert.equal(second.job.result.cached, 25);
      assert.deepEqual(partials(second.events).map((p) => p.tags), partials(first.events).map((p) => p.tags));
      // Another level is tagged afresh.
      const detailed = await tagged(ty, library, { level: 'detailed' });
      assert.equal(detailed.job.result.cached, 0);
    });

    test('a cancelled job ends cancelled and keeps the tracks it tagged as a partial library', async () => {
      const accepted = await uploadLibrary(ty.url, LIBRARY, { config: JSON.stringify({ level: 'quick', trackDelayMs: 100 }) }, 'crate.xml');
      assert.equal(accepted.status, 202);
      const { id } = accepted.body;
      await until('a few tracks tagged', async () => ((await jobEvents(ty.url, id)).filter((e) => e.type === 'partial').length >= 3 ? true : undefined));
      const cancel = await postJson(`${ty.url}/v1/jobs/${id}/cancel`, {});
      assert.equal(cancel.status, 202);
      const job = await waitForTerminal(ty.url, id);
      assert.equal(job.status, 'cancelled');
      assert.equal(job.error.code, 'TASKYARD_ERR_CANCELLED');
      const done = (await jobEvents(ty.url, id)).filter((e) => e.type === 'partial');
      assert.ok(done.length >= 3 && done.length < 60, `${done.length} tracks`);
      const { artifacts } = (await getJson(`${ty.url}/v1/jobs/${id}/artifacts`)).body;
      assert.deepEqual(artifacts.map((a: { name: string }) => a.name), ['crate.tagged.partial.xml']);
      const xml = (await download(ty.url, artifacts[0].url)).toString('utf8');
      const tracks = collectionTracks(xml);
      assert.equal(tracks.length, 60, 'the whole library');
      const taggedIds = tracks.filter((t) => /^energy:/.test(t.Comments ?? '')).map((t) => t.TrackID);
      assert.deepEqual(taggedIds, done.map((e) => e.data.trackId), 'exactly the tracks the partials announced');
      assert.equal(withoutWrittenAttributes(xml), withoutWrittenAttributes(LIBRARY.toString('utf8')));
    });

    test('XML bombs, XXE, malformed XML, other roots, no tracks and non-UTF-8 are refused with 400; nothing is enqueued', async () => {
      const before = await libraryJobs(ty);
      const cases: Array<[string, Uint8Array | string, RegExp]> = [
        ['billion laughs', BOMB, /DOCTYPE/],
        ['XXE', XXE, /DOCTYPE/],
        ['malformed', '<DJ_PLAYLISTS><COLLECTION><TRACK Name="a"></COLLECTION></DJ_PLAYLISTS>', /not well-formed/],
        ['truncated', LIBRARY.subarray(0, LIBRARY.length / 2), /not well-formed/],
        ['empty', '', /not well-formed/],
        ['another root', '<rss><COLLECTION><TRACK/></COLLECTION></rss>', /root element/],
        ['no tracks', '<DJ_PLAYLISTS Version="1.0.0"><COLLECTION Entries="0"></COLLECTION><PLAYLISTS/></DJ_PLAYLISTS>', /no tracks/],
        ['not UTF-8', Buffer.from('<DJ_PLAYLISTS><COLLECTION><TRACK Name="caf\xe9"/></COLLECTION></DJ_PLAYLISTS>', 'latin1'), /not UTF-8/],
      ];
      for (const [name, file, message] of cases) {
        const res = await uploadLibrary(ty.url, file, { config: '{"level":"quick"}' });
        assert.equal(res.status, 400, `${name}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.error.code, 'TASKYARD_ERR_VALIDATION', name);
        assert.match(res.body.error.message, message, name);
        assert.deepEqual(res.body.error.details.map((d: { path: string }) => d.path), ['file'], name);
      }
      assert.equal(await libraryJobs(ty), before, 'no job was created');
    });

    test('a library over the size limit (20 MiB) is a 413 with the error body; one over 1 MiB (the JSON body limit) is taken', async () => {
      const large = generatedLibrary(2500);
      assert.ok(large.length > 1024 * 1024);
      const accepted = await uploadLibrary(ty.url, large, { config: '{"level":"quick"}' });
      assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
      assert.equal(accepted.body.tracks, 2500);
      await postJson(`${ty.url}/v1/jobs/${accepted.body.id}/cancel`, {});
      assert.ok(['completed', 'cancelled'].includes((await waitForTerminal(ty.url, accepted.body.id)).status));

      const padding = `<!--${'x'.repeat(21 * 1024 * 1024)}-->`;
      const res = await uploadLibrary(ty.url, `<?xml version="1.0"?>${padding}<DJ_PLAYLISTS><COLLECTION><TRACK Name="a"/></COLLECTION></DJ_PLAYLISTS>`);
      assert.equal(res.status, 413);
      assert.equal(res.body.error.code, 'TASKYARD_ERR_BODY_TOO_LARGE');
      assert.match(res.body.error.message, /20971520 bytes/);
    });

    test('a bad form is a 400 naming the field; a JSON body a 415', async () => {
      const refused = async (res: { status: number; body: any }, status: number, path?: string) => {
        assert.equal(res.status, status, JSON.stringify(res.body));
        if (path) assert.equal(res.body.error.details[0].path, path, JSON.stringify(res.body));
      };
      const small = ODD_LAYOUT;
      await refused(await uploadLibrary(ty.url, null, { config: '{"level":"quick"}' }), 400, 'file');
      await refused(await uploadLibrary(ty.url, small, {}, 'library.xml', 'library'), 400, 'library');
      await refused(await uploadLibrary(ty.url, small, { options: '{}' }), 400, 'options');
      await refused(await uploadLibrary(ty.url, small, { config: '{level: quick}' }), 400, 'config');
      await refused(await uploadLibrary(ty.url, small, { config: '{"level":"thorough"}' }), 400, 'config.level');
      await refused(await uploadLibrary(ty.url, small, { config: '{"level":"quick","extra":1}' }), 400, 'config');
      // A form cut short is the client's error, not the server's.
      const cut = await fetch(`${ty.url}/api/library/jobs`, {
        method: 'POST',
        headers: { 'content-type': 'multipart/form-data; boundary=xyz' },
        body: '--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.xml"\r\n\r\n<DJ_PLA',
      });
      assert.equal(cut.status, 400);
      assert.equal(((await cut.json()) as any).error.code, 'TASKYARD_ERR_BAD_REQUEST');
      const json = await postJson(`${ty.url}/api/library/jobs`, { file: '<DJ_PLAYLISTS/>' });
      assert.equal(json.status, 415);
      assert.equal(json.body.error.code, 'TASKYARD_ERR_UNSUPPORTED_MEDIA_TYPE');
      // No config at all: the quick level.
      const { job } = await tagged(ty, small, undefined);
      assert.equal(job.result.level, 'quick');
    });

    test('a file name with path tricks names nothing outside the job: display and artifact names are its last segment', async () => {
      const { accepted, job } = await tagged(ty, ODD_LAYOUT, { level: 'quick' }, '../../etc/x.xml');
      assert.match(accepted.displayName, /^x\.xml – Tagging/);
      assert.deepEqual(job.result.artifacts.map((a: { name: string }) => a.name), ['x.tagged.xml']);
      const res = await fetch(`${ty.url}${job.result.artifacts[0].url}`);
      assert.equal(res.headers.get('content-disposition'), 'attachment; filename="x.tagged.xml"');
      for (const trick of ['..%2F..%2Fetc%2Fx.tagged.xml', '..%2Fx.tagged.xml']) {
        const bad = await getJson(`${ty.url}/v1/jobs/${job.id}/artifacts/${trick}`);
        assert.ok([400, 404].includes(bad.status), `${trick}: ${bad.status}`);
      }
    });
  });
}
