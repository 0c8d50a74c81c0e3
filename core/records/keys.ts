// The node's named ed25519 key pairs (the publishers of its mutable records). A bounded map with
// name rules; whoever keeps them on disk listens through onAdded (the layer wires persistence.ts).
import { DhtError } from '../errors';
import { generateKeyPair, type KeyPair } from './signing';
import { LazyMap } from '../lazy-map';

export const MAX_KEY_PAIRS = 64;
export const DEFAULT_KEY_PAIR = 'default';
const KEY_PAIR_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

function checkKeyPairName(name: string): void {
  if (!KEY_PAIR_NAME.test(name)) throw DhtError.invalidArgument(`a key pair name is 1-100 letters, digits, '.', '_' or '-', starting with a letter or digit; got "${name.slice(0, 40)}"`);
}

export interface KeyPairRegistryDeps {
  /** A key pair was generated or imported (not restored from disk): save it. */
  onAdded(name: string): void;
}

export class KeyPairRegistry {
  private readonly pairs = new LazyMap<string, KeyPair>();

  constructor(private readonly deps: KeyPairRegistryDeps) {}

  /**
   * The key pair kept under `name`, generated (and saved with the identity, when there is a data
   * directory) the first time it is asked for.
   */
  get(name: string = DEFAULT_KEY_PAIR): KeyPair {
    checkKeyPairName(name);
    return this.pairs.get(name) ?? this.keep(name, generateKeyPair());
  }

  /** Keeps an existing key pair (imported from a file) under a new name; refuses a name in use. */
  add(name: string, keyPair: KeyPair): KeyPair {
    checkKeyPairName(name);
    if (this.pairs.has(name)) throw DhtError.invalidArgument(`a key pair named "${name}" already exists`);
    return this.keep(name, keyPair);
  }

  names(): string[] {
    return [...this.pairs.keys()];
  }

  entries(): Array<{ name: string; keyPair: KeyPair }> {
    return [...this.pairs].map(([name, keyPair]) => ({ name, keyPair }));
  }

  /** A key pair read back from the data directory (the file holds at most what we saved). */
  restore(name: string, keyPair: KeyPair): void {
    this.pairs.set(name, keyPair);
  }

  private keep(name: string, kp: KeyPair): KeyPair {
    if (this.pairs.size >= MAX_KEY_PAIRS) throw DhtError.invalidArgument(`this node already keeps ${MAX_KEY_PAIRS} key pairs`);
    this.pairs.set(name, kp);
    this.deps.onAdded(name);
    return kp;
  }
}
