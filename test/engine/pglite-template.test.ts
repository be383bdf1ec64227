// The build ships a pristine PGlite data dir so a first start skips initdb.
// These tests use the built package (npm test builds before testing).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';

const dist = new URL('../../dist/engine/', import.meta.url);
const { templateUrl, templateFor, PGLITE_VERSION } = (await import(new URL('pglite-template.js', dist).href)) as typeof import('../../src/engine/pglite-template.js');
const { PglitePool } = (await import(new URL('pglite-pool.js', dist).href)) as typeof import('../../src/engine/pglite-pool.js');

describe('PGlite data-dir template (built)', () => {
  const dirs: string[] = [];
  after(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  test('the build wrote a template for the installed PGlite version', () => {
    assert.ok(existsSync(templateUrl()), `missing ${templateUrl().pathname}`);
    assert.match(templateUrl().pathname, new RegExp(`pglite-template-${PGLITE_VERSION.replaceAll('.', '\\.')}\\.tar\\.gz$`));
  });

  test('an in-memory database starts from it too, and works', async () => {
    assert.ok(await templateFor('memory://'), 'memory:// uses the template');
    const pool = await PglitePool.open({ dataDir: 'memory://' });
    await pool.query('CREATE TABLE t (id int)');
    await pool.query('INSERT INTO t VALUES (7)');
    assert.deepEqual((await pool.query<{ id: number }>('SELECT id FROM t')).rows, [{ id: 7 }]);
    await pool.end();
  });

  test('a new data dir starts from it, works, and keeps its data across a reopen; a used dir is left alone', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'taskyard-template-'));
    dirs.push(root);
    const dataDir = path.join(root, 'data');
    assert.ok(await templateFor(dataDir), 'a new dir uses the template');
    let pool = await PglitePool.open({ dataDir });
    await pool.query('CREATE TABLE kept (id int)');
    await pool.query('INSERT INTO kept VALUES (42)');
    await pool.end();
    assert.equal(await templateFor(dataDir), undefined, 'an existing dir is never overwritten');
    pool = await PglitePool.open({ dataDir });
    const { rows } = await pool.query<{ id: number }>('SELECT id FROM kept');
    assert.deepEqual(rows, [{ id: 42 }]);
    await pool.end();
  });
});
