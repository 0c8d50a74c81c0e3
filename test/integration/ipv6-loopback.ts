// Whether this machine can bind ::1 (containers often have no IPv6 loopback): IPv6 tests skip without it.
import { createSocket } from 'node:dgram';

export async function hasIpv6Loopback(): Promise<boolean> {
  const s = createSocket('udp6');
  const ok = await new Promise<boolean>((resolve) => {
    s.once('error', () => resolve(false));
    s.bind(0, '::1', () => resolve(true));
  });
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return ok;
}
