import { HttpException } from '@nestjs/common';

/**
 * An HTTP error answered with `Retry-After: <seconds>` (RFC 9110 §10.2.3): the same call may
 * succeed after that long, not sooner. Used to pass on the ML Service's own answer to an overload
 * (503 from a deployment at capacity), so callers back off instead of adding to it.
 */
export class RetryLaterException extends HttpException {
  constructor(
    message: string,
    status: number,
    readonly retryAfterSeconds: string,
  ) {
    super(message, status);
  }
}
