// Small React hooks shared by views.
import { useEffect, useState, type KeyboardEvent, type RefObject } from 'react';
import { hostNow } from '../state/live';

/** The host clock's now, refreshed every `everyMs` (for "3 s ago" and uptime). */
export function useHostNow(everyMs = 1000): number {
  const [now, setNow] = useState(hostNow);
  useEffect(() => {
    const t = setInterval(() => setNow(hostNow()), everyMs);
    return () => clearInterval(t);
  }, [everyMs]);
  return now;
}

/**
 * Restyles a graph whose colours come from the page's CSS variables: when the chosen theme changes
 * and, while it follows the system, when the system's colour scheme does.
 */
export function useRestyleOnTheme(ctl: RefObject<{ restyle(): void } | null>, theme: string): void {
  useEffect(() => {
    ctl.current?.restyle();
    const mq = window.matchMedia('(prefers-color-scheme: dark)');
    const onChange = (): void => ctl.current?.restyle();
    mq.addEventListener('change', onChange);
    return () => mq.removeEventListener('change', onChange);
  }, [ctl, theme]);
}

/** A keydown handler that runs `activate` on Enter or Space, as a click would (rows that act as buttons). */
export function onActivateKey(activate: () => void): (e: KeyboardEvent) => void {
  return (e) => {
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      activate();
    }
  };
}
