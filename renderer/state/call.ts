// Commands through react-query: a Result's error becomes a thrown ApiError, so mutations and queries
// carry the host's code and message to where the error is shown.
import type { ErrorCode, Result } from '../../electron/host/contract';

export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export async function unwrap<T>(p: Promise<Result<T>>): Promise<T> {
  const r = await p;
  if (r.ok) return r.value;
  throw new ApiError(r.code, r.message);
}
