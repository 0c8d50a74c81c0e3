// Every system the benchmark drives, in table order (kadscope first: ratios are kadscope / peer).
import type { BenchNetwork, SystemDriver } from '../harness';
import { bittorrentDhtDriver, bittorrentDiagnostics } from './bittorrent-dht';
import { dhtRpcDiagnostics, dhtRpcDriver } from './dht-rpc';
import { kadscopeDiagnostics, kadscopeDriver } from './kadscope';

export function allDrivers(): SystemDriver[] {
  return [kadscopeDriver(), dhtRpcDriver(), bittorrentDhtDriver()];
}

/** Facts about a built network that are recorded but not compared (routing-table fill). */
export function networkDiagnostics(system: string, net: BenchNetwork): Record<string, unknown> {
  if (system === 'kadscope') return kadscopeDiagnostics(net);
  if (system === 'dht-rpc') return dhtRpcDiagnostics(net);
  if (system === 'bittorrent-dht') return bittorrentDiagnostics(net);
  return {};
}
