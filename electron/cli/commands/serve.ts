// `kadscope serve`: the headless host. Serves the built UI and the API on 127.0.0.1 and prints the
// URL to open (it carries the session token the page needs).
import { HOST_USAGE, OptionsError, parseHostOptions } from '../../host/options';
import { startHeadless } from '../../host/headless';
import { EXIT_OK, UsageError, untilSignal, type Command } from '../shared';

export const serveCommand: Command = {
  name: 'serve',
  summary: 'serve the explorer UI to a browser on 127.0.0.1 (headless host)',
  usage: `kadscope serve ${HOST_USAGE}

  --bootstrap     join these nodes instead of starting the embedded local testnet
  --data-dir      where state lives (default $XDG_DATA_HOME/kadscope or ~/.local/share/kadscope)
  --port          HTTP port on 127.0.0.1 (default 7420; 0 picks a free one)
  --node-port     UDP port of your node (default: a free one)
  --testnet-size  size of the embedded testnet (default 32); --no-testnet starts none
  --metrics       serve Prometheus metrics of your node at http://HOST:PORT/metrics (a bare PORT
                  means 127.0.0.1:PORT; name another address only to let other machines scrape it)`,
  async run(argv, io) {
    let options;
    try {
      options = parseHostOptions(argv);
    } catch (e) {
      if (e instanceof OptionsError) throw new UsageError(e.message);
      throw e;
    }
    const host = await startHeadless(options);
    for (const w of host.warnings) io.err(`kadscope: ${w}`);
    io.out(`kadscope: node ${host.service.node.id.slice(0, 16)}… on ${host.service.node.address.host}:${host.service.node.address.port}`);
    io.out(`kadscope: open ${host.web.url}`);
    if (host.metrics) io.out(`kadscope: metrics at ${host.metrics.url}`);
    await untilSignal();
    io.out('kadscope: stopping…');
    await host.close();
    return EXIT_OK;
  },
};
