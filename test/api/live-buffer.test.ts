import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LiveBuffer } from '../../src/api/live-buffer.js';
import type { EventType, JobEvent } from '../../src/events/types.js';

/**
 * A transport whose network is driven by the test: frames written stay
 * unsent (counted in bufferedBytes) until `take()` passes them on.
 */
class Network {
  readonly received: string[] = [];
  private readonly inFlight: Array<{ frame: string; sent: () => void }> = [];

  bufferedBytes = (): number => this.inFlight.reduce((sum, { frame }) => sum + Buffer.byteLength(frame), 0);

  write = (frame: string, sent: () => void): void => {
    this.inFlight.push({ frame, sent });
  };

  /** The client reads everything written so far (and what that lets through). */
  takeAll(): void {
    while (this.inFlight.length > 0) {
      const { frame, sent } = this.inFlight.shift()!;
      this.received.push(frame);
      sent();
    }
  }
}

const SOFT = 100;
const HARD = 1000;

function setup(): { network: Network; buffer: LiveBuffer; overflows: number[] } {
  const network = new Network();
  const overflows: number[] = [];
  const buffer = new LiveBuffer({
    sink: network,
    softLimitBytes: SOFT,
    hardLimitBytes: HARD,
    encode: (event) => `${event.jobId}:${event.seq}:${event.type}:${String(event.data)}`,
    onOverflow: () => overflows.push(buffer.lastSent('a') ?? 0),
  });
  return { network, buffer, overflows };
}

function event(seq: number, type: EventType, data = '', jobId = 'a'): JobEvent {
  return { jobId, seq, type, data, at: '' };
}

/** Fills the transport past the soft limit with one big partial, seq 1. */
function backUp(buffer: LiveBuffer): void {
  buffer.push(event(1, 'partial', 'x'.repeat(SOFT)));
  assert.ok(buffer.backedUp);
}

const seqsOf = (frames: string[]): string[] => frames.map((frame) => frame.split(':').slice(0, 3).join(':'));

describe('LiveBuffer', () => {
  test('sends straight through while the transport keeps up, whatever the size', () => {
    const { network, buffer } = setup();
    buffer.push(event(1, 'partial', 'x'.repeat(HARD * 2)));
    network.takeAll();
    buffer.push(event(2, 'progress'));
    network.takeAll();
    assert.deepEqual(seqsOf(network.received), ['a:1:partial', 'a:2:progress']);
  });

  test('while backed up, a run of progress is coalesced (latest wins) and the rest keeps its order', () => {
    const { network, buffer } = setup();
    backUp(buffer);
    buffer.push(event(2, 'progress', '1'));
    buffer.push(event(3, 'progress', '2'));
    buffer.push(event(4, 'partial'));
    buffer.push(event(5, 'progress', '3'));
    buffer.push(event(6, 'progress', '4'));
    buffer.push(event(7, 'result'));
    buffer.push(event(8, 'status'));
    network.takeAll();
    assert.deepEqual(seqsOf(network.received), ['a:1:partial', 'a:3:progress', 'a:4:partial', 'a:6:progress', 'a:7:result', 'a:8:status']);
    assert.equal(buffer.lastSent('a'), 8);
    assert.equal(buffer.backedUp, false);
  });

  test("progress is coalesced per job: one job's events do not stop another's progress from coalescing", () => {
    const { network, buffer } = setup();
    backUp(buffer);
    buffer.push(event(1, 'progress', '', 'b'));
    buffer.push(event(1, 'log', '', 'c'));
    buffer.push(event(2, 'progress', '', 'b'));
    network.takeAll();
    assert.deepEqual(seqsOf(network.received), ['a:1:partial', 'b:2:progress', 'c:1:log']);
  });

  test('past the hard limit it overflows once, with the last seq sent, and takes nothing more', () => {
    const { network, buffer, overflows } = setup();
    backUp(buffer);
    let seq = 2;
    while (buffer.open) buffer.push(event(seq++, 'partial', 'y'.repeat(100)));
    assert.deepEqual(overflows, [1], 'only seq 1 reached the transport');
    buffer.push(event(seq++, 'status'));
    network.takeAll();
    assert.deepEqual(seqsOf(network.received), ['a:1:partial'], 'what waited is dropped, not sent after the resume point');
    assert.deepEqual(overflows, [1]);
  });

  test('a progress-only flood never overflows', () => {
    const { network, buffer, overflows } = setup();
    backUp(buffer);
    for (let seq = 2; seq <= 10_000; seq++) buffer.push(event(seq, 'progress', String(seq)));
    buffer.push(event(10_001, 'status'));
    network.takeAll();
    assert.deepEqual(overflows, []);
    assert.deepEqual(seqsOf(network.received), ['a:1:partial', 'a:10000:progress', 'a:10001:status']);
  });

  test('forget drops only that job; drained resolves once everything is through', async () => {
    const { network, buffer } = setup();
    backUp(buffer);
    buffer.push(event(1, 'partial', '', 'b'));
    buffer.pushMessage('hello');
    buffer.push(event(2, 'partial', '', 'b'));
    buffer.forget('b');
    let drained = false;
    const waiting = buffer.drained().then(() => (drained = true));
    await Promise.resolve();
    assert.equal(drained, false);
    network.takeAll();
    await waiting;
    assert.deepEqual(network.received.slice(1), ['hello']);
  });
});
