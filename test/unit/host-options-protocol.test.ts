// The hosts' --protocol flag (kadscope serve, npm start, the Electron app): the user's node and the
// embedded testnet speak it; a name it does not know is refused with the names it does.
import { describe, expect, it } from 'vitest';
import { OptionsError, parseHostOptions } from '../../electron/host/options';

describe('host options: --protocol', () => {
  it('defaults to kadscope and takes hyperdht or mainline', () => {
    expect(parseHostOptions([]).protocol).toBe('kadscope');
    expect(parseHostOptions(['--protocol', 'hyperdht']).protocol).toBe('hyperdht');
    expect(parseHostOptions(['--protocol=mainline']).protocol).toBe('mainline');
  });

  it('refuses an unknown protocol with the ones it knows', () => {
    expect(() => parseHostOptions(['--protocol', 'kademlia'])).toThrow(OptionsError);
    expect(() => parseHostOptions(['--protocol', 'kademlia'])).toThrow('--protocol must be one of kadscope, mainline, hyperdht; got "kademlia"');
  });
});

describe('host options: --transport', () => {
  it('is unset by default (the native binding when it loads) and takes native, udx or dgram', () => {
    expect(parseHostOptions([]).transport).toBeNull();
    expect(parseHostOptions(['--transport', 'native']).transport).toBe('native');
    expect(parseHostOptions(['--transport', 'dgram']).transport).toBe('dgram');
    expect(parseHostOptions(['--transport=udx']).transport).toBe('udx');
  });

  it('refuses another socket with the ones it knows', () => {
    expect(() => parseHostOptions(['--transport', 'tcp'])).toThrow('--transport must be one of native, udx, dgram; got "tcp"');
  });
});
