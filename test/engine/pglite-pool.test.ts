import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { PglitePool, type Notification, type PglitePoolClient } from '../../src/engine/pglite-pool.js';

/** Collects a client's notifications, and lets a test wait for one on a channel. */
function recorder(client: PglitePoolClient): { got: Notification[]; next(channel: string): Promise<Notification> } {
  const got: Notification[] = [];
  client.on('notification', (msg: Notification) => got.push(msg));
  return {
    got,
    async next(channel) {
      for (;;) {
        const [msg] = (await once(client, 'notification')) as [Notification];
        if (msg.channel === channel) return msg;
      }
    },
  };
}

describe('PglitePool: a pg.Pool over one in-memory PGlite', () => {
  let pool: PglitePool;
  let table = 0;
  /** A fresh table per test, so tests do not see each other's rows. */
  const freshTable = async (): Promise<string> => {
    const name = `items_${++table}`;
    await pool.query(`CREATE TABLE ${name} (id int PRIMARY KEY, label text)`);
    return name;
  };
  const count = async (name: string): Promise<number> =>
    Number((await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${name}`)).rows[0]!.n);

  before(async () => {
    pool = await PglitePool.open({ dataDir: 'memory://', searchPath: ['adapter_test'] });
  });
  after(() => pool.end());

  test('autovacuum vacuums on its timer, waiting for an open transaction rather than breaking it', async () => {
    const name = await freshTable();
    const lastVacuum = async (): Promise<unknown> =>
      (await pool.query<{ last_vacuum: unknown }>('SELECT last_vacuum FROM pg_stat_all_tables WHERE relname = $1', [name])).rows[0]?.last_vacuum ?? null;
    assert.equal(await lastVacuum(), null);
    const client = await pool.connect();
    await client.query('BEGIN');
    await client.query(`INSERT INTO ${name} (id, label) VALUES (1, 'kept')`);
    const stop = pool.autovacuum(20);
    try {
      await new Promise((resolve) => setTimeout(resolve, 100)); // several ticks fire while the transaction is open
      await client.query('COMMIT');
      client.release();
      const deadline = Date.now() + 5000;
      while ((await lastVacuum()) === null && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    } finally {
      stop();
    }
    assert.notEqual(await lastVacuum(), null, 'a VACUUM ran');
    assert.equal(await count(name), 1, 'the transaction committed intact');
  });

  test('a parameterised query returns its rows', async () => {
    const name = await freshTable();
    await pool.query(`INSERT INTO ${name} (id, label) VALUES ($1, $2), ($3, $4)`, [1, 'one', 2, 'two']);
    const result = await pool.query<{ id: number; label: string }>(`SELECT id, label FROM ${name} WHERE id >= $1 ORDER BY id`, [1]);
    assert.deepEqual(result.rows, [
      { id: 1, label: 'one' },
      { id: 2, label: 'two' },
    ]);
  });

  test('tables land in the search_path schema', async () => {
    const name = await freshTable();
    const { rows } = await pool.query<{ schema: string }>('SELECT table_schema AS schema FROM information_schema.tables WHERE table_name = $1', [name]);
    assert.deepEqual(rows, [{ schema: 'adapter_test' }]);
  });

  test('a multi-statement text without params runs every statement and returns the last result', async () => {
    const result = await pool.query<{ n: number; labels: string }>(
      `CREATE TABLE multi (id int, label text);
       INSERT INTO multi VALUES (1, 'a');
       INSERT INTO multi VALUES (2, 'b');
       SELECT count(*)::int AS n, string_agg(label, ',' ORDER BY id) AS labels FROM multi`,
    );
    assert.deepEqual(result.rows, [{ n: 2, labels: 'a,b' }]);
  });

  test('int8 and numeric come back as strings, as node-postgres returns them', async () => {
    const { rows } = await pool.query<{ big: unknown; n: unknown; num: unknown; small: unknown }>(
      'SELECT 9007199254740993::int8 AS big, count(*) AS n, 1.50::numeric AS num, 7::int4 AS small FROM (VALUES (1), (2)) AS v(x)',
    );
    assert.deepEqual(rows, [{ big: '9007199254740993', n: '2', num: '1.50', small: 7 }]);
  });

  test('a query from elsewhere waits for an open transaction and sees only committed data', async () => {
    const name = await freshTable();
    const a = await pool.connect();
    const order: string[] = [];
    try {
      await a.query('BEGIN');
      await a.query(`INSERT INTO ${name} VALUES (1, 'first')`);
      // Issued while A's transaction is open: PGlite is one session, so it must not run inside it.
      const outside = pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${name}`).then((result) => {
        order.push('outside query');
        return result.rows[0]!.n;
      });
      const otherClient = (async () => {
        const b = await pool.connect();
        try {
          await b.query(`INSERT INTO ${name} VALUES (100, 'from b')`);
          order.push('other client insert');
        } finally {
          b.release();
        }
      })();
      // A goes on with its transaction; nothing from outside lands in between.
      await a.query(`INSERT INTO ${name} VALUES (2, 'second')`);
      const inside = await a.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${name}`);
      assert.equal(inside.rows[0]!.n, 2, 'the transaction sees its own rows and nothing else');
      assert.deepEqual([...order], [], 'nothing from outside ran while the transaction was open');
      await a.query('COMMIT');
      order.push('commit');
      assert.equal(await outside, 2, 'the outside query sees both committed rows');
      await otherClient;
      assert.deepEqual(order, ['commit', 'outside query', 'other client insert']);
      assert.equal(await count(name), 3);
    } finally {
      a.release();
    }
  });

  test('ROLLBACK discards the transaction and frees the session', async () => {
    const name = await freshTable();
    const a = await pool.connect();
    try {
      await a.query('BEGIN');
      await a.query(`INSERT INTO ${name} VALUES (1, 'doomed')`);
      const outside = pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${name}`);
      await a.query('ROLLBACK');
      assert.equal((await outside).rows[0]!.n, 0);
      // The client is usable again, outside any transaction.
      await a.query(`INSERT INTO ${name} VALUES (2, 'kept')`);
    } finally {
      a.release();
    }
    assert.equal(await count(name), 1);
  });

  test('ROLLBACK TO SAVEPOINT keeps the transaction (and the session) open', async () => {
    const name = await freshTable();
    const a = await pool.connect();
    try {
      await a.query('BEGIN');
      await a.query(`INSERT INTO ${name} VALUES (1, 'kept')`);
      await a.query('SAVEPOINT sp');
      await a.query(`INSERT INTO ${name} VALUES (2, 'undone')`);
      await a.query('ROLLBACK TO SAVEPOINT sp');
      const outside = pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${name}`);
      await a.query(`INSERT INTO ${name} VALUES (3, 'kept')`);
      await a.query('COMMIT');
      assert.equal((await outside).rows[0]!.n, 2);
    } finally {
      a.release();
    }
  });

  test('release() in the middle of a transaction rolls it back and frees the session', async () => {
    const name = await freshTable();
    const a = await pool.connect();
    await a.query('BEGIN');
    await a.query(`INSERT INTO ${name} VALUES (1, 'abandoned')`);
    const outside = pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${name}`);
    a.release();
    assert.equal((await outside).rows[0]!.n, 0, 'the abandoned insert is gone');
    await assert.rejects(a.query('SELECT 1'), /released/);

    // Another client can open a transaction of its own and commit it.
    const b = await pool.connect();
    try {
      await b.query('BEGIN');
      await b.query(`INSERT INTO ${name} VALUES (2, 'committed')`);
      await b.query('COMMIT');
    } finally {
      b.release();
    }
    const { rows } = await pool.query<{ label: string }>(`SELECT label FROM ${name}`);
    assert.deepEqual(rows, [{ label: 'committed' }]);
  });

  test('a failed statement inside a transaction, then ROLLBACK, frees the session', async () => {
    const name = await freshTable();
    const a = await pool.connect();
    try {
      await a.query('BEGIN');
      await a.query(`INSERT INTO ${name} VALUES (1, 'x')`);
      await assert.rejects(a.query(`INSERT INTO ${name} VALUES (1, 'duplicate')`), /duplicate key/);
      await a.query('ROLLBACK');
    } finally {
      a.release();
    }
    assert.equal(await count(name), 0);
  });

  test('LISTEN after `--` comment lines (as in BullMQ command files) delivers NOTIFY payloads to that client', async () => {
    const a = await pool.connect();
    const b = await pool.connect();
    try {
      const fromA = recorder(a);
      const fromB = recorder(b);
      await a.query('-- Subscribe to the shared job-notification channel.\n-- Producers pg_notify(...).\nLISTEN bullmq_jobs;\n');
      await b.query('LISTEN sentinel');
      const received = fromA.next('bullmq_jobs');
      await pool.query("SELECT pg_notify('bullmq_jobs', 'queue-a')");
      assert.deepEqual(await received, { channel: 'bullmq_jobs', payload: 'queue-a' });

      // B never listened on bullmq_jobs: once its own sentinel arrives, it has had nothing else.
      const sentinel = fromB.next('sentinel');
      await pool.query("NOTIFY bullmq_jobs, 'again'; NOTIFY sentinel, 'done'");
      await sentinel;
      assert.deepEqual(fromB.got, [{ channel: 'sentinel', payload: 'done' }]);
    } finally {
      a.release();
      b.release();
    }
  });

  test('quoted channel names with ":" work, and a parameterised pg_notify reaches them', async () => {
    const a = await pool.connect();
    try {
      const fromA = recorder(a);
      await a.query('LISTEN "taskyard_x:events"');
      const received = fromA.next('taskyard_x:events');
      await pool.query('SELECT pg_notify($1, $2)', ['taskyard_x:events', '{"j":"job-1","s":3}']);
      assert.deepEqual(await received, { channel: 'taskyard_x:events', payload: '{"j":"job-1","s":3}' });
    } finally {
      a.release();
    }
  });

  test('UNLISTEN stops delivery to that client only', async () => {
    const a = await pool.connect();
    const b = await pool.connect();
    try {
      const fromA = recorder(a);
      const fromB = recorder(b);
      await a.query('LISTEN "shared:chan"');
      await a.query('LISTEN a_sentinel');
      await b.query('LISTEN "shared:chan"');
      const first = Promise.all([fromA.next('shared:chan'), fromB.next('shared:chan')]);
      await pool.query(`NOTIFY "shared:chan", 'one'`);
      await first;

      await a.query('UNLISTEN "shared:chan"');
      const toB = fromB.next('shared:chan');
      const aDone = fromA.next('a_sentinel');
      // Notifications arrive in the order sent: when A's sentinel is in, 'two' has been dispatched.
      await pool.query(`NOTIFY "shared:chan", 'two'; NOTIFY a_sentinel, 'done'`);
      assert.deepEqual(await toB, { channel: 'shared:chan', payload: 'two' }, 'B still listens');
      await aDone;
      assert.deepEqual(
        fromA.got.map((msg) => msg.payload),
        ['one', 'done'],
        'A got nothing on the channel after UNLISTEN',
      );
    } finally {
      a.release();
      b.release();
    }
  });

  test('release() stops a client’s subscriptions', async () => {
    const a = await pool.connect();
    const b = await pool.connect();
    try {
      const fromA = recorder(a);
      const fromB = recorder(b);
      await a.query('LISTEN gone');
      await b.query('LISTEN b_sentinel');
      a.release();
      const done = fromB.next('b_sentinel');
      await pool.query(`NOTIFY gone, 'late'; NOTIFY b_sentinel, 'done'`);
      await done;
      assert.deepEqual(fromA.got, []);
    } finally {
      a.release();
      b.release();
    }
  });

  test('UNLISTEN while another client is inside a (failed) transaction waits for it, and succeeds', async () => {
    const name = await freshTable();
    const a = await pool.connect();
    const b = await pool.connect();
    try {
      const fromB = recorder(b);
      await b.query('LISTEN b_chan');
      await a.query('BEGIN');
      await a.query(`INSERT INTO ${name} VALUES (1, 'x')`);
      await assert.rejects(a.query(`INSERT INTO ${name} VALUES (1, 'duplicate')`), /duplicate key/);
      // B's UNLISTEN must not run inside A's transaction (aborted, then rolled back).
      const unlisten = b.query('UNLISTEN b_chan');
      // Give B's statement every chance to start; A's transaction is still its own.
      await new Promise((resolve) => setImmediate(resolve));
      await assert.rejects(a.query('SELECT 1'), /current transaction is aborted/);
      await a.query('ROLLBACK');
      await unlisten;
      await b.query('LISTEN b_sentinel');
      const done = fromB.next('b_sentinel');
      await pool.query(`NOTIFY b_chan, 'after unlisten'; NOTIFY b_sentinel, 'done'`);
      await done;
      assert.deepEqual(fromB.got, [{ channel: 'b_sentinel', payload: 'done' }]);
    } finally {
      a.release();
      b.release();
    }
  });
});
