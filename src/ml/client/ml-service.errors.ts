import { type AxiosError, isAxiosError } from 'axios';

/*
 * axios ships separate CommonJS and ES builds. The compiled service requires the CommonJS one while
 * @nestjs/axios imports the ES one, so their AxiosError classes differ and `instanceof` would be
 * false: errors are recognised with isAxiosError, which reads a flag, never by class.
 */

/** One attempt outlived its deadline (raised by the per-attempt timeout operator). */
export class MlServiceTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`no answer within ${timeoutMs} ms`);
    this.name = 'MlServiceTimeoutError';
  }
}

/** Socket-level failures worth another attempt: the ML Service restarting or a dropped connection. */
const CONNECTION_ERROR_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ECONNABORTED', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * Statuses that say "try again later" rather than "this request is wrong". Not 504: the ML Service
 * answers it when a statement ran out its own time limit, and the same request would run as long
 * again (issue 11: a slow query was run three times, the last after the caller had given up).
 */
const TRANSIENT_STATUSES = new Set([429, 502, 503]);

export function statusOf(error: unknown): number | undefined {
  return isAxiosError(error) ? error.response?.status : undefined;
}

export function isConnectionError(error: unknown): error is AxiosError {
  if (!isAxiosError(error) || error.response !== undefined) {
    return false;
  }
  return CONNECTION_ERROR_CODES.has(error.code ?? '') || /socket hang up/i.test(error.message);
}

/**
 * Worth another attempt: a dropped or refused connection, 429, 502, 503. A request that outlived
 * its deadline is not: it is still running on the ML Service, and a second attempt would add a
 * second copy of the same work.
 */
export function isTransientFailure(error: unknown): boolean {
  if (isConnectionError(error)) {
    return true;
  }
  const status = statusOf(error);
  return status !== undefined && TRANSIENT_STATUSES.has(status);
}

/** A short reason for logs and messages: the HTTP status, the socket error code, or the timeout. */
export function reasonOf(error: unknown): string {
  if (error instanceof MlServiceTimeoutError) {
    return error.message;
  }
  if (isAxiosError(error)) {
    if (error.response) {
      return `HTTP ${error.response.status}`;
    }
    return error.code && !/socket hang up/i.test(error.message) ? error.code : error.message;
  }
  return error instanceof Error ? error.message : String(error);
}
