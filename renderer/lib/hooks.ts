// Small React hooks shared by views.
import { useEffect, useState } from 'react';
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
