// The Traces view's own UI state, kept across navigation: which trace is open, which one it is
// compared with, and whether the right side replays or compares.
import { create } from 'zustand';

export type TracesMode = 'replay' | 'compare';

export interface TracesUi {
  /** The trace replayed (and side A of a comparison). */
  selected: string | null;
  /** Side B of a comparison; null picks one automatically. */
  compareWith: string | null;
  mode: TracesMode;
  /** The list beside the replay; hidden, the replay gets the width to show waterfall and graph side by side. */
  listOpen: boolean;
  /** Opens a trace for replay. */
  open(id: string): void;
  select(id: string | null): void;
  setCompareWith(id: string | null): void;
  setMode(mode: TracesMode): void;
  setListOpen(open: boolean): void;
}

export const useTracesUi = create<TracesUi>()((set) => ({
  selected: null,
  compareWith: null,
  mode: 'replay',
  listOpen: true,
  open: (id) => set({ selected: id, mode: 'replay' }),
  select: (id) => set((s) => ({ selected: id, compareWith: s.compareWith === id ? null : s.compareWith })),
  setCompareWith: (id) => set({ compareWith: id }),
  setMode: (mode) => set({ mode }),
  setListOpen: (listOpen) => set({ listOpen }),
}));
