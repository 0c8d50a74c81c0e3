// The replay's transport controls: to start, step back, play / pause, step forward, to end; a
// scrubber over the lookup's time; speed (0.25x-8x) and pace (real time, or one event per beat).
// The scrubber's arrow keys step from event to event; Space plays and pauses.
import type { ChangeEvent, KeyboardEvent, ReactElement } from 'react';
import { Segmented } from '../components/common';
import { formatDuration } from '../lib/format';
import { REPLAY_SPEEDS, nextStop, prevStop, type Replay, type ReplayPace } from './replay';

interface Props {
  replay: Replay;
  t: number;
  playing: boolean;
  speed: number;
  pace: ReplayPace;
  onSeek(t: number): void;
  onPlay(playing: boolean): void;
  onSpeed(speed: number): void;
  onPace(pace: ReplayPace): void;
}

/** The scrubber's resolution: 1,000 positions across the trace. */
const SCRUB_STEPS = 1000;

// Drawn, not typed: media-control characters render as emoji or not at all depending on fonts.
const GLYPHS = {
  start: <path d="M6 5v14M18 5l-9 7 9 7z" />,
  prev: <path d="M15 5l-7 7 7 7" />,
  next: <path d="M9 5l7 7-7 7" />,
  end: <path d="M18 5v14M6 5l9 7-9 7z" />,
  play: <path d="M7 5v14l12-7z" fill="currentColor" />,
  pause: <path d="M7 5h3.5v14H7zM13.5 5H17v14h-3.5z" fill="currentColor" />,
  again: <path d="M4.5 12a7.5 7.5 0 1 0 2.2-5.3M4.5 4.5v4h4" />,
};

function Glyph({ name }: { name: keyof typeof GLYPHS }): ReactElement {
  return (
    <svg className="glyph" viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth={2} strokeLinecap="round" strokeLinejoin="round" aria-hidden="true">
      {GLYPHS[name]}
    </svg>
  );
}

export function Player({ replay, t, playing, speed, pace, onSeek, onPlay, onSpeed, onPace }: Props): ReactElement {
  const d = replay.durationMs;
  const atEnd = t >= d;
  const onKey = (e: KeyboardEvent<HTMLInputElement>): void => {
    const to = e.key === 'ArrowRight' || e.key === 'ArrowUp' ? nextStop(replay, t) : e.key === 'ArrowLeft' || e.key === 'ArrowDown' ? prevStop(replay, t) : e.key === 'Home' ? 0 : e.key === 'End' ? d : null;
    if (to !== null) {
      e.preventDefault();
      onPlay(false);
      onSeek(to);
    } else if (e.key === ' ') {
      e.preventDefault();
      onPlay(!playing);
    }
  };
  return (
    <div className="player" role="group" aria-label="Replay controls" data-testid="player" data-t={t} data-duration={d} data-at-end={atEnd ? 'true' : 'false'} data-playing={playing ? 'true' : 'false'}>
      <div className="player-row">
        <div className="player-buttons">
          <button type="button" className="btn icon ghost" onClick={() => (onPlay(false), onSeek(0))} disabled={t <= 0} aria-label="Back to the start" title="Back to the start (Home)">
            <Glyph name="start" />
          </button>
          <button type="button" className="btn icon ghost" onClick={() => (onPlay(false), onSeek(prevStop(replay, t)))} disabled={t <= 0} aria-label="Previous event" title="Previous event (←)" data-testid="step-back">
            <Glyph name="prev" />
          </button>
          <button type="button" className="btn primary player-play" onClick={() => onPlay(!playing)} aria-label={playing ? 'Pause' : atEnd ? 'Replay from the start' : 'Play'} data-testid="play">
            <Glyph name={playing ? 'pause' : atEnd ? 'again' : 'play'} />
            {playing ? 'Pause' : atEnd ? 'Replay' : 'Play'}
          </button>
          <button type="button" className="btn icon ghost" onClick={() => (onPlay(false), onSeek(nextStop(replay, t)))} disabled={atEnd} aria-label="Next event" title="Next event (→)" data-testid="step-forward">
            <Glyph name="next" />
          </button>
          <button type="button" className="btn icon ghost" onClick={() => (onPlay(false), onSeek(d))} disabled={atEnd} aria-label="To the end" title="To the end (End)" data-testid="to-end">
            <Glyph name="end" />
          </button>
        </div>
        <input
          type="range"
          className="player-scrub"
          min={0}
          max={SCRUB_STEPS}
          step={1}
          value={d > 0 ? Math.round((t / d) * SCRUB_STEPS) : 0}
          onChange={(e: ChangeEvent<HTMLInputElement>) => onSeek((Number(e.target.value) / SCRUB_STEPS) * d)}
          onKeyDown={onKey}
          aria-label="Replay position"
          aria-valuetext={`${formatDuration(t)} of ${formatDuration(d)}`}
          data-testid="scrubber"
        />
        <span className="player-time" data-testid="player-time">
          <b>{formatDuration(t)}</b> / {formatDuration(d)}
        </span>
      </div>
      <div className="player-row player-options">
        <label className="player-speed">
          <span>Speed</span>
          <select className="select" value={speed} onChange={(e) => onSpeed(Number(e.target.value))} data-testid="speed" title="Playback speed">
            {REPLAY_SPEEDS.map((s) => (
              <option key={s} value={s}>
                {s}×
              </option>
            ))}
          </select>
        </label>
        <span className="player-pace">
          <span>Pace</span>
          <Segmented
            label="Pace"
            value={pace}
            onChange={onPace}
            options={[
              { value: 'real', label: 'Real time' },
              { value: 'steps', label: 'Event by event' },
            ]}
          />
        </span>
        <span className="faint player-keys">← → step through events · Space plays and pauses</span>
      </div>
    </div>
  );
}
