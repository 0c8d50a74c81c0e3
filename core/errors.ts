// One error class for the library. `code` is a stable string callers switch on; wire error codes
// (numbers in an ERROR message) are kept apart in WIRE_ERROR and mapped with fromWire/toWire.

export type DhtErrorCode =
  | 'INVALID_ARGUMENT'
  | 'NOT_STARTED'
  | 'STOPPED'
  | 'ABORTED'
  | 'TIMEOUT'
  | 'TOO_MANY_IN_FLIGHT'
  | 'BIND_FAILED'
  | 'NO_PEERS'
  | 'NOT_FOUND'
  | 'REMOTE_ERROR'
  // record and store refusals, each with its own code
  | 'INVALID_TOKEN'
  | 'VALUE_TOO_LARGE'
  | 'SALT_TOO_LARGE'
  | 'BAD_SIGNATURE'
  | 'HASH_MISMATCH'
  | 'SEQ_TOO_LOW'
  | 'SEQ_REUSED'
  | 'CAS_MISMATCH'
  | 'STORE_FULL'
  /** The storer's store policy or a validator refused the record (the message says why). */
  | 'POLICY_REFUSED'
  | 'RATE_LIMITED'
  | 'PROTOCOL'
  | 'UNKNOWN_METHOD'
  /** The node's protocol has no room for what was asked (a custom method on Mainline, say). */
  | 'UNSUPPORTED'
  | 'CORRUPT_FILE'
  | 'INTERNAL';

/** Numeric codes carried in wire v1 ERROR messages. Never renumber: other nodes rely on them. */
export const WIRE_ERROR = {
  GENERIC: 1,
  PROTOCOL: 2,
  UNKNOWN_METHOD: 3,
  RATE_LIMITED: 4,
  INVALID_TOKEN: 10,
  VALUE_TOO_LARGE: 11,
  SALT_TOO_LARGE: 12,
  BAD_SIGNATURE: 13,
  HASH_MISMATCH: 14,
  SEQ_TOO_LOW: 15,
  SEQ_REUSED: 16,
  CAS_MISMATCH: 17,
  STORE_FULL: 18,
  POLICY_REFUSED: 19,
} as const;

const WIRE_TO_CODE: Record<number, DhtErrorCode> = {
  [WIRE_ERROR.GENERIC]: 'REMOTE_ERROR',
  [WIRE_ERROR.PROTOCOL]: 'PROTOCOL',
  [WIRE_ERROR.UNKNOWN_METHOD]: 'UNKNOWN_METHOD',
  [WIRE_ERROR.RATE_LIMITED]: 'RATE_LIMITED',
  [WIRE_ERROR.INVALID_TOKEN]: 'INVALID_TOKEN',
  [WIRE_ERROR.VALUE_TOO_LARGE]: 'VALUE_TOO_LARGE',
  [WIRE_ERROR.SALT_TOO_LARGE]: 'SALT_TOO_LARGE',
  [WIRE_ERROR.BAD_SIGNATURE]: 'BAD_SIGNATURE',
  [WIRE_ERROR.HASH_MISMATCH]: 'HASH_MISMATCH',
  [WIRE_ERROR.SEQ_TOO_LOW]: 'SEQ_TOO_LOW',
  [WIRE_ERROR.SEQ_REUSED]: 'SEQ_REUSED',
  [WIRE_ERROR.CAS_MISMATCH]: 'CAS_MISMATCH',
  [WIRE_ERROR.STORE_FULL]: 'STORE_FULL',
  [WIRE_ERROR.POLICY_REFUSED]: 'POLICY_REFUSED',
};

export class DhtError extends Error {
  readonly code: DhtErrorCode;
  /** The wire code when this error came from (or goes to) another node. */
  readonly wireCode?: number;
  /** Hex id of the node that sent this error back, as its answer's header claims. */
  readonly remoteId?: string;

  constructor(code: DhtErrorCode, message: string, options?: { cause?: unknown; wireCode?: number; remoteId?: string }) {
    super(message, options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = 'DhtError';
    this.code = code;
    if (options?.wireCode !== undefined) this.wireCode = options.wireCode;
    if (options?.remoteId !== undefined) this.remoteId = options.remoteId;
  }

  static invalidArgument(message: string): DhtError {
    return new DhtError('INVALID_ARGUMENT', message);
  }
  static notStarted(): DhtError {
    return new DhtError('NOT_STARTED', 'the node is not started; call start() first');
  }
  static stopped(): DhtError {
    return new DhtError('STOPPED', 'the node has stopped');
  }
  static aborted(reason?: unknown): DhtError {
    return new DhtError('ABORTED', 'the operation was aborted', { cause: reason });
  }
  static timeout(what: string, ms: number): DhtError {
    return new DhtError('TIMEOUT', `${what} timed out after ${ms} ms`);
  }
  static notFound(what: string): DhtError {
    return new DhtError('NOT_FOUND', what);
  }
  /** An error answer from another node; remoteId: the id in its header (hex). */
  static fromWire(wireCode: number, message: string, remoteId?: string): DhtError {
    const code = WIRE_TO_CODE[wireCode] ?? 'REMOTE_ERROR';
    return new DhtError(code, message || code, remoteId === undefined ? { wireCode } : { wireCode, remoteId });
  }
  /** A refusal to send back on the wire (STORE with a bad token, a full store, ...). */
  static refusal(code: keyof typeof WIRE_ERROR, message: string): DhtError {
    const wire = WIRE_ERROR[code];
    return new DhtError(WIRE_TO_CODE[wire], message, { wireCode: wire });
  }

  /** The wire code to answer with for this error. */
  toWire(): number {
    return this.wireCode ?? WIRE_ERROR.GENERIC;
  }
}

export function isDhtError(e: unknown, code?: DhtErrorCode): e is DhtError {
  return e instanceof DhtError && (code === undefined || e.code === code);
}
