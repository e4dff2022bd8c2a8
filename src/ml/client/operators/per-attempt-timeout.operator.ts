import { MonoTypeOperatorFunction, Observable, throwError, timeout } from 'rxjs';
import { MlServiceTimeoutError } from '@app/ml/client/ml-service.errors';

/**
 * Fails one attempt after `timeoutMs`. Placed before `retryTransient` so that each resubscription
 * gets a fresh deadline; the unsubscribe that `timeout` performs cancels the HTTP request, so a slow
 * ML Service does not keep sockets open for abandoned attempts.
 */
export function perAttemptTimeout<T>(timeoutMs: number): MonoTypeOperatorFunction<T> {
  return timeout<T, Observable<never>>({
    first: timeoutMs,
    with: () => throwError(() => new MlServiceTimeoutError(timeoutMs)),
  });
}
