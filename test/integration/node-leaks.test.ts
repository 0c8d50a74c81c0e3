// After stop() nothing is left behind: no socket, no timer, no listener (ARCHITECTURE.md, habit 8). UDP is
// checked against the process's live handles; the memory network against its fake clock.
import { describe, expect, it } from 'vitest';
import { FakeClock, systemClock, type Clock, type TimerHandle } from '../../core/clock';
import { bytesToHex, seededRandomBytes } from '../../core/id';
import { DhtNode } from '../../core/node';
import { createTestnet } from '../../core/testnet';
import { loadNativeLayer } from '../../core/transport/native-udp';
import { loadUdxLayer } from '../../core/transport/udx';
import type { LookupEvent } from '../../core/types';

/**
 * Live handles of one kind in this process (timers 'Timeout'). UDP sockets: node:dgram's as libuv
 * lists them ('UDPWrap') plus udx-native's and the native binding's as their layers count them
 * (getActiveResourcesInfo does not list those), so the checks hold whichever layer the nodes run on.
 */
const handles = (kind: string): number =>
  process.getActiveResourcesInfo().filter((r) => r === kind).length + (kind === 'UDPWrap' ? layerOpenSockets() : 0);
const layerOpenSockets = (): number => {
  let open = 0;
  for (const loaded of [loadUdxLayer(), loadNativeLayer()]) if ('layer' in loaded) open += loaded.layer.openSockets;
  return open;
};

const STOPPED = expect.objectContaining({ code: 'STOPPED' });

/**
 * The system clock, counting the timers armed through it and not yet fired or cleared. The system
 * clock unrefs its timers, and process.getActiveResourcesInfo() does not list unref'd ones, so
 * this is how a UDP test sees a node's own timers.
 */
class CountingClock implements Clock {
  private readonly live = new Set<TimerHandle>();
  get pending(): number {
    return this.live.size;
  }
  now(): number {
    return systemClock.now();
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const h = systemClock.setTimeout(() => {
      this.live.delete(h);
      fn();
    }, ms);
    this.live.add(h);
    return h;
  }
  clearTimeout(h: TimerHandle): void {
    this.live.delete(h);
    systemClock.clearTimeout(h);
  }
}

/** Every public operation of a stopped node refuses with STOPPED, as a rejected promise or a throw for sync ones. */
async function expectAllStopped(node: DhtNode, peer: string): Promise<void> {
  await expect(node.ping(peer)).rejects.toEqual(STOPPED);
  await expect(node.findNode('00'.repeat(32))).rejects.toEqual(STOPPED);
  await expect(node.bootstrap([peer])).rejects.toEqual(STOPPED);
  expect(() => node.lookup('00'.repeat(32))).toThrow(STOPPED);
  // Record operations: awaited inside an async function so a synchronous throw shows as a rejection too.
  await expect((async () => node.records.put('hello'))()).rejects.toEqual(STOPPED);
  await expect((async () => node.records.get('00'.repeat(32)))()).rejects.toEqual(STOPPED);
}

describe('no leaks over UDP', () => {
  it('sockets and timers return to the baseline after stop(); stop() twice is fine; later operations reject STOPPED', async () => {
    const udpBefore = handles('UDPWrap');
    const timersBefore = handles('Timeout');
    const clock = new CountingClock();
    const net = await createTestnet({ size: 12, transport: 'udp', seed: 21, k: 8, clock });
    expect(handles('UDPWrap')).toBe(udpBefore + 12);
    expect(clock.pending).toBeGreaterThanOrEqual(12); // at least each node's maintenance timer
    // Some traffic, so requests and lookups have created (and cleared) their timers.
    const rand = seededRandomBytes(22);
    for (const n of net.nodes.slice(0, 4)) await n.findNode(bytesToHex(rand(32)));
    // A lookup abandoned half-way, and one cut short by stop().
    const first = net.nodes[0];
    for await (const e of first.lookup(bytesToHex(rand(32)))) if (e.type === 'query') break;
    const victim = net.nodes[1];
    const events: LookupEvent[] = [];
    const running = (async () => {
      for await (const e of victim.lookup(bytesToHex(rand(32)))) {
        events.push(e);
        if (e.type === 'query') void victim.stop();
      }
    })();
    await running;
    expect(events[events.length - 1]).toMatchObject({ type: 'done', reason: 'aborted' });

    await net.destroy();
    for (const n of net.nodes) {
      expect(n.running).toBe(false);
      expect(n.listenerCount()).toBe(0);
      expect(n.snapshot().counters.inFlight).toBe(0);
    }
    expect(handles('UDPWrap')).toBe(udpBefore);
    // At most the baseline: the test runner's own timers may come and go meanwhile, ours may not stay.
    expect(handles('Timeout')).toBeLessThanOrEqual(timersBefore);
    expect(clock.pending).toBe(0);

    // Idempotent, and every operation now says STOPPED.
    await first.stop();
    await net.destroy();
    await expectAllStopped(first, net.nodes[2].address.host + ':' + net.nodes[2].address.port);
    expect(handles('UDPWrap')).toBe(udpBefore);
    expect(handles('Timeout')).toBeLessThanOrEqual(timersBefore);
    expect(clock.pending).toBe(0);
  }, 60_000);

  it('a node that never started, or failed to bind, holds nothing', async () => {
    const udpBefore = handles('UDPWrap');
    const never = DhtNode.create({ port: 0 });
    await never.stop();
    await never.stop();
    const holder = DhtNode.create({ port: 0 });
    await holder.start();
    const clash = DhtNode.create({ port: holder.address.port });
    await expect(clash.start()).rejects.toMatchObject({ code: 'BIND_FAILED' });
    await clash.stop();
    await holder.stop();
    expect(handles('UDPWrap')).toBe(udpBefore);
  });
});

describe('no leaks on the memory network', () => {
  it('leaves no fake timer, bound address or datagram in flight after every node stops and the network is destroyed', async () => {
    const clock = new FakeClock();
    const net = await createTestnet({ size: 30, transport: 'memory', seed: 31, clock, k: 8 });
    const network = net.network!;
    expect(network.boundCount).toBe(30);
    const rand = seededRandomBytes(32);
    // Lookups, a put, and maintenance rounds: every kind of timer a node arms.
    for (const n of net.nodes.slice(0, 5)) await net.run(n.findNode(bytesToHex(rand(32))));
    await net.run(net.nodes[3].records.put('leak check'));
    await clock.tickAsync(16 * 60_000); // past BUCKET_REFRESH_MS: refresh lookups run
    // One node stops in the middle of a lookup.
    const victim = net.nodes[7];
    const done = (async () => {
      for await (const e of victim.lookup(bytesToHex(rand(32)))) if (e.type === 'query') void victim.stop();
    })();
    await net.run(done);

    const listeners = net.nodes.map((n) => n.listenerCount());
    await net.destroy();
    expect(listeners.every((n) => n === 0)).toBe(true); // nobody subscribed in this test
    for (const n of net.nodes) {
      expect(n.running).toBe(false);
      expect(n.listenerCount()).toBe(0);
    }
    expect(clock.pendingTimers).toBe(0);
    expect(network.boundCount).toBe(0);
    expect(network.stats.inFlight).toBe(0);
    await net.destroy(); // twice is fine
    await expectAllStopped(net.nodes[0], `${net.nodes[1].address.host}:${net.nodes[1].address.port}`);
    expect(clock.pendingTimers).toBe(0);
  }, 60_000);

  it('a ping in flight when its node stops fails with STOPPED, and one given a signal with ABORTED when it aborts', async () => {
    const clock = new FakeClock();
    const net = await createTestnet({ size: 3, transport: 'memory', seed: 34, clock });
    const [a, b, c] = net.nodes;
    // Answered: the peer's id, the round trip and our address as the peer saw it.
    const answered = await net.run(a.ping(c.address));
    expect(answered.id).toBe(c.id);
    expect(answered.rttMs).toBeGreaterThanOrEqual(0);
    expect(answered.observed).toEqual(a.address);
    // Pings to a node that has stopped go unanswered until their timeout.
    const silent = b.address;
    await b.stop();
    const controller = new AbortController();
    const outcomes = Promise.allSettled([a.ping(silent, { signal: controller.signal }), a.ping(silent)]);
    controller.abort();
    await clock.tickAsync(0);
    await a.stop();
    const [aborted, stopped] = await outcomes;
    expect(aborted).toMatchObject({ status: 'rejected', reason: { code: 'ABORTED' } });
    expect(stopped).toMatchObject({ status: 'rejected', reason: { code: 'STOPPED' } });
    await net.destroy();
    expect(clock.pendingTimers).toBe(0);
  });

  it('drops the listeners it was given on stop()', async () => {
    const clock = new FakeClock();
    const net = await createTestnet({ size: 3, transport: 'memory', seed: 33, clock });
    const n = net.nodes[0];
    n.on('lookup', () => undefined);
    n.on('peer-added', () => undefined);
    n.on('peer-removed', () => undefined);
    n.on('peer-health', () => undefined);
    expect(n.listenerCount()).toBe(4);
    await n.stop();
    expect(n.listenerCount()).toBe(0);
    await net.destroy();
    expect(clock.pendingTimers).toBe(0);
  });
});
