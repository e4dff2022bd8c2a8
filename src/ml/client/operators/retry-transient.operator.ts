import { MonoTypeOperatorFunction, Observable, retry, throwError, timer } from 'rxjs';
import { isAxiosError } from 'axios';
import { isTransientFailure } from '@app/ml/client/ml-service.errors';

export interface RetryPolicy {
  /** Attempts in total, the first one included. */
  maxAttempts: number;
  /** Backoff before the second attempt; doubles for each further one. */
  baseDelayMs: number;
  /** Upper bound for any single wait; a Retry-After asking for more ends the retries. */
  maxDelayMs: number;
  /** False for requests that must not run twice (a POST without an Idempotency-Key). */
  safeToRepeat: boolean;
}

/**
 * Reads Retry-After as seconds or as an HTTP-date; undefined when absent or unreadable.
 * `now` is injectable so the date form can be tested without a clock.
 */
export function retryAfterMs(error: unknown, now: number = Date.now()): number | undefined {
  if (!isAxiosError(error)) {
    return undefined;
  }
  const header: unknown = error.response?.headers?.['retry-after'];
  if (typeof header !== 'string' || header.trim() === '') {
    return undefined;
  }
  if (/^\d+$/.test(header.trim())) {
    return Number(header.trim()) * 1000;
  }
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * Exponential backoff with "equal jitter": half the step is fixed, half random, so replicas that
 * failed together do not retry together while each still waits a minimum.
 */
export function backoffMs(retryNumber: number, policy: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>): number {
  const step = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retryNumber - 1));
  return step / 2 + Math.random() * (step / 2);
}

/**
 * Resubscribes to the source after transient failures (connection errors, 429/502/503; never a
 * timed-out attempt nor a 504, which would run the same slow work again), at most `maxAttempts` attempts in all, and only for requests safe to repeat.
 * A Retry-After header replaces the computed backoff; one longer than `maxDelayMs` is not retried.
 */
export function retryTransient<T>(policy: RetryPolicy): MonoTypeOperatorFunction<T> {
  return (source: Observable<T>) =>
    policy.safeToRepeat && policy.maxAttempts > 1
      ? source.pipe(
          retry({
            count: policy.maxAttempts - 1,
            delay: (error: unknown, retryNumber: number) => {
              if (!isTransientFailure(error)) {
                return throwError(() => error);
              }
              const asked = retryAfterMs(error);
              if (asked !== undefined && asked > policy.maxDelayMs) {
                // The server asks for a longer wait than we would ever make (the job quota's 429
                // says 30 s): an early retry only repeats the refusal, so the caller gets it now.
                return throwError(() => error);
              }
              return timer(asked ?? backoffMs(retryNumber, policy));
            },
          }),
        )
      : source;
}
