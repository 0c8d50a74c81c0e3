// Write tokens: proof that a requester can receive datagrams at the address it writes from, so an
// attacker cannot STORE or ANNOUNCE with a spoofed source. A token is an HMAC of the address under
// a secret that rotates; we accept the current and the previous secret, so a token is good for
// between one and two rotation periods. No state per requester, no timers: rotation happens lazily
// on the injected clock when a token is issued or checked.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../clock';
import { DhtError } from '../errors';
import { cryptoRandomBytes, type RandomBytes } from '../id';
import { endpointKey, type Endpoint } from '../transport/types';

export const TOKEN_ROTATE_MS = 5 * 60_000;
/** Truncated HMAC-SHA256: 128 bits is far beyond guessing within a token's lifetime. */
export const TOKEN_BYTES = 16;
const SECRET_BYTES = 32;

export interface TokenManagerDeps {
  clock: Clock;
  /** Source of secrets; tests inject a seeded one. */
  randomBytes?: RandomBytes;
}

export interface TokenManagerOptions {
  /** How often the secret rotates, ms (default TOKEN_ROTATE_MS). */
  rotateMs?: number;
}

export class TokenManager {
  private readonly clock: Clock;
  private readonly randomBytes: RandomBytes;
  readonly rotateMs: number;
  private current: Uint8Array;
  /** null right after start or when more than one period passed: nothing older is valid. */
  private previous: Uint8Array | null = null;
  private rotatedAt: number;

  constructor(deps: TokenManagerDeps, options: TokenManagerOptions = {}) {
    this.clock = deps.clock;
    this.randomBytes = deps.randomBytes ?? cryptoRandomBytes;
    this.rotateMs = options.rotateMs ?? TOKEN_ROTATE_MS;
    if (!(this.rotateMs > 0)) throw DhtError.invalidArgument(`rotateMs must be positive; got ${this.rotateMs}`);
    this.current = this.randomBytes(SECRET_BYTES);
    this.rotatedAt = this.clock.now();
  }

  /** The token for a requester at address; hand it out in FIND_* and GET_PEERS responses. */
  issue(address: Endpoint): Uint8Array {
    this.rotate();
    return this.mac(this.current, address);
  }

  /** Whether token was issued to address under the current or the previous secret. Constant-time. */
  verify(address: Endpoint, token: Uint8Array): boolean {
    this.rotate();
    if (token.length !== TOKEN_BYTES) return false;
    const given = Buffer.from(token.buffer, token.byteOffset, token.byteLength);
    // Check both secrets unconditionally so timing does not reveal which one matched.
    const cur = timingSafeEqual(given, this.mac(this.current, address));
    const prev = this.previous !== null && timingSafeEqual(given, this.mac(this.previous, address));
    return cur || prev;
  }

  /** null for a valid token; otherwise the INVALID_TOKEN refusal to answer with. */
  check(address: Endpoint, token: Uint8Array | undefined): DhtError | null {
    if (token === undefined || token.length === 0) {
      return DhtError.refusal('INVALID_TOKEN', 'missing write token; get one from a FIND_NODE, FIND_VALUE or GET_PEERS response first');
    }
    if (this.verify(address, token)) return null;
    return DhtError.refusal('INVALID_TOKEN', `write token is not valid for ${endpointKey(address)} (expired, or issued to another address)`);
  }

  private rotate(): void {
    const periods = Math.floor((this.clock.now() - this.rotatedAt) / this.rotateMs);
    if (periods < 1) return;
    // After two or more periods even the last secret is too old to honour.
    this.previous = periods === 1 ? this.current : null;
    this.current = this.randomBytes(SECRET_BYTES);
    this.rotatedAt += periods * this.rotateMs;
  }

  private mac(secret: Uint8Array, address: Endpoint): Buffer {
    return createHmac('sha256', secret).update(endpointKey(address)).digest().subarray(0, TOKEN_BYTES);
  }
}
