import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import Fastify from 'fastify';
import { dashboardDir, dashboardRoutes } from '../../src/api/dashboard.js';

describe('the dashboard at /', () => {
  const dirs: string[] = [];
  after(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));
  const tempDir = (): string => {
    const dir = mkdtempSync(join(tmpdir(), 'taskyard-dashboard-'));
    dirs.push(dir);
    return dir;
  };

  test('serves the build: index.html never cached, hashed assets cached for good, other paths 404', async () => {
    const root = tempDir();
    mkdirSync(join(root, 'assets'));
    writeFileSync(join(root, 'index.html'), '<!doctype html><title>Taskyard</title><script src="./assets/index-abc123.js"></script>');
    writeFileSync(join(root, 'assets', 'index-abc123.js'), 'console.log(1)');
    const app = Fastify();
    await dashboardRoutes(app, root);

    const page = await app.inject({ url: '/?job=01a2' });
    assert.equal(page.statusCode, 200);
    assert.match(page.headers['content-type'] as string, /text\/html/);
    assert.equal(page.headers['cache-control'], 'no-cache');
    assert.match(page.body, /<title>Taskyard<\/title>/);

    const asset = await app.inject({ url: '/assets/index-abc123.js' });
    assert.equal(asset.statusCode, 200);
    assert.equal(asset.headers['cache-control'], 'public, max-age=31536000, immutable');

    assert.equal((await app.inject({ url: '/no-such-file.js' })).statusCode, 404);
    await app.close();
  });

  test('without a build, / says how to make one (503, not a 500)', async () => {
    const app = Fastify();
    await dashboardRoutes(app, tempDir());
    const page = await app.inject({ url: '/' });
    assert.equal(page.statusCode, 503);
    assert.match(page.body, /npm run build/);
    await app.close();
  });

  test('from the sources (tsx), the build is looked for in dist/dashboard', () => {
    assert.match(dashboardDir(), /[\\/]dist[\\/]dashboard[\\/]?$/);
  });
});
