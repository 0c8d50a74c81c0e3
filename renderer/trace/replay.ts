// Replay: a trace seen at one moment. Pure functions from (trace, time) to what the waterfall, the
// graph and the figures show then, so a scrubber can jump anywhere and tests need no DOM. The lookup
// model, waterfall and graph overlay are the Lookups view's own (state/lookup-model.ts), fed the
// events up to that moment.
import type { Contact, Trace, TraceEvent } from '../../electron/host/contract';
import { buildOverlay, buildWaterfall, type LookupDone, type LookupModel, type LookupOverlay, type Waterfall } from '../state/lookup-model';
import { closerTo } from '../lib/id';

/** Playback speeds offered, slowest first. */
export const REPLAY_SPEEDS = [0.25, 0.5, 1, 2, 4, 8] as const;

/**
 * How time moves while playing: 'real' follows the trace's clock (times speed); 'steps' moves one
 * event time per beat, so a lookup that took 20 ms on loopback can still be watched.
 */
export type ReplayPace = 'real' | 'steps';
/** One step per beat at 1x in 'steps' pace, ms. */
export const STEP_BEAT_MS = 400;
/** Below this duration a trace starts in 'steps' pace: in real time it would be over in a blink, ms. */
export const REAL_TIME_MIN_MS = 1500;

export interface Replay {
  trace: Trace;
  /** The trace's events in time order (a valid file is already; sorting is stable). */
  events: TraceEvent[];
  /** The timeline's end: the 'done' event's offset, else the last event's. */
  durationMs: number;
  /** Distinct event times, ascending: where stepping and 'steps' pace stop. */
  stops: number[];
}

export function prepareReplay(trace: Trace): Replay {
  const events = [...trace.events].sort((a, b) => a.t - b.t);
  const stops: number[] = [];
  for (const e of events) if (stops.length === 0 || stops[stops.length - 1] !== e.t) stops.push(e.t);
  const last = events.length > 0 ? events[events.length - 1].t : 0;
  return { trace, events, durationMs: Math.max(last, trace.summary.durationMs ?? 0), stops };
}

export function defaultPace(r: Replay): ReplayPace {
  return r.durationMs < REAL_TIME_MIN_MS ? 'steps' : 'real';
}

/** Figures of the lookup as it stood at a moment. */
export interface ReplayFigures {
  /** Queries sent so far. */
  messages: number;
  answers: number;
  timeouts: number;
  errors: number;
  /** Queries sent and not yet answered, timed out or failed. */
  inFlight: number;
  /** The deepest hop among the answers so far. */
  hops: number;
}

export interface ReplayFrame {
  /** The moment shown, ms since the lookup started (clamped to the timeline). */
  t: number;
  /** Events that happened at or before t. */
  shown: number;
  total: number;
  atEnd: boolean;
  /** The latest event shown (null before the first). */
  last: TraceEvent | null;
  /** The lookup as it stood: events up to t; `done` only once the lookup had ended. */
  model: LookupModel;
  /** Rows of the RPCs sent by t; the axis spans the whole trace, so bars keep their place. */
  waterfall: Waterfall;
  /** Graph highlight: who was asked, who answered, what answers pointed to. */
  overlay: LookupOverlay;
  figures: ReplayFigures;
  /** The k closest nodes that had answered by t, nearest first (at the end: the trace's final set). */
  closest: Contact[];
}

/** Number of events with time <= t (binary search: scrubbing a 20,000-event trace stays cheap). */
export function eventsUpTo(r: Replay, t: number): number {
  let lo = 0;
  let hi = r.events.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (r.events[mid].t <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function clampTime(r: Replay, t: number): number {
  return Number.isFinite(t) ? Math.min(r.durationMs, Math.max(0, t)) : 0;
}

export function frameAt(r: Replay, time: number): ReplayFrame {
  const t = clampTime(r, time);
  const shown = eventsUpTo(r, t);
  const events = r.events.slice(0, shown);
  const tr = r.trace;
  let done: LookupDone | null = null;
  const figures: ReplayFigures = { messages: 0, answers: 0, timeouts: 0, errors: 0, inFlight: 0, hops: 0 };
  const answered = new Map<string, Contact>();
  for (const e of events) {
    if (e.type === 'query') figures.messages++;
    else if (e.type === 'response') {
      figures.answers++;
      figures.hops = Math.max(figures.hops, e.hop);
      answered.set(e.peer.id, e.peer);
    } else if (e.type === 'timeout') figures.timeouts++;
    else if (e.type === 'error') figures.errors++;
    else if (e.type === 'done') {
      done = { reason: e.reason, closest: e.closest, hops: e.hops, messages: e.messages, durationMs: e.durationMs, timeToClosestMs: e.timeToClosestMs };
    }
  }
  figures.inFlight = Math.max(0, figures.messages - figures.answers - figures.timeouts - figures.errors);
  // The trace as it stood at t: its events so far; the outcome only once its 'done' is shown.
  const model: LookupModel = {
    ...tr,
    events,
    summary: done
      ? tr.summary
      : { reason: null, durationMs: null, hops: null, messages: figures.messages, timeToClosestMs: null, closest: [], responses: figures.answers, timeouts: figures.timeouts, errors: figures.errors },
  };

  const wf = buildWaterfall(events, t);
  const atEnd = shown === r.events.length && t >= r.durationMs;
  const k = tr.params.k > 0 ? tr.params.k : Infinity;
  const closest = done ? (done as LookupDone).closest : nearest(tr.target, [...answered.values()], k);
  return {
    t,
    shown,
    total: r.events.length,
    atEnd,
    last: shown > 0 ? events[shown - 1] : null,
    model,
    waterfall: { ...wf, spanMs: Math.max(r.durationMs, 1) },
    overlay: buildOverlay(model),
    figures,
    closest,
  };
}

function nearest(target: string, contacts: Contact[], k: number): Contact[] {
  return contacts.sort((a, b) => (closerTo(target, a.id, b.id) ? -1 : closerTo(target, b.id, a.id) ? 1 : 0)).slice(0, k);
}

/** The next event time after t (the end when none). */
export function nextStop(r: Replay, t: number): number {
  for (const s of r.stops) if (s > t) return s;
  return r.durationMs;
}

/** The last event time before t (0 when none). */
export function prevStop(r: Replay, t: number): number {
  let out = 0;
  for (const s of r.stops) {
    if (s >= t) break;
    out = s;
  }
  return out;
}

/**
 * Where playback is after `elapsedMs` of wall time from `t`. 'real': t + elapsed x speed. 'steps':
 * one stop per STEP_BEAT_MS / speed; `carryMs` is the part of a beat already waited, returned so the
 * caller can keep it between animation frames.
 */
export function advance(r: Replay, t: number, elapsedMs: number, speed: number, pace: ReplayPace, carryMs = 0): { t: number; carryMs: number } {
  if (pace === 'real') return { t: clampTime(r, t + elapsedMs * speed), carryMs: 0 };
  const beat = STEP_BEAT_MS / speed;
  let acc = carryMs + elapsedMs;
  let at = t;
  while (acc >= beat && at < r.durationMs) {
    at = nextStop(r, at);
    acc -= beat;
  }
  return { t: at, carryMs: at >= r.durationMs ? 0 : acc };
}

/** One line about an event, for the caption under the scrubber. */
export function describeEvent(e: TraceEvent | null, short: (id: string) => string = (id) => id.slice(0, 8)): string {
  if (!e) return 'before the first event: the lookup is about to ask its seeds';
  switch (e.type) {
    case 'started':
      return `started with ${e.seeds.length} seed${e.seeds.length === 1 ? '' : 's'} from the routing table`;
    case 'query':
      return `asked ${short(e.peer.id)} (hop ${e.hop})`;
    case 'response':
      return `${short(e.peer.id)} answered in ${fmt(e.rttMs)} with ${e.nodes.length} node${e.nodes.length === 1 ? '' : 's'}${e.hasValue ? ' and the value' : ''}${e.peerCount ? ` and ${e.peerCount} peers` : ''}`;
    case 'timeout':
      return `${short(e.peer.id)} timed out after ${fmt(e.afterMs)}`;
    case 'error':
      return `${short(e.peer.id)} failed: ${e.code}`;
    case 'done':
      return `done: ${e.reason}, ${e.hops} hop${e.hops === 1 ? '' : 's'}, ${e.messages} message${e.messages === 1 ? '' : 's'}`;
  }
}

function fmt(ms: number): string {
  return ms < 10 ? `${ms.toFixed(1)} ms` : ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}
