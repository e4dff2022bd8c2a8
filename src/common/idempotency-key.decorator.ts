import { randomUUID } from 'node:crypto';
import { BadRequestException, createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { HttpRequest } from '@app/common/http/node-http';

const ACCEPTABLE_KEY = /^[A-Za-z0-9_.:-]{1,128}$/;

/**
 * The caller's Idempotency-Key header, or a fresh UUID when there is none: every submission carries
 * a key, so retries of that one logical submission can never start a second job.
 */
export const IdempotencyKey = createParamDecorator((_data: unknown, context: ExecutionContext): string => {
  const header = context.switchToHttp().getRequest<HttpRequest>().headers['idempotency-key'];
  if (header === undefined) {
    return randomUUID();
  }
  if (typeof header !== 'string' || !ACCEPTABLE_KEY.test(header)) {
    throw new BadRequestException('Idempotency-Key must be 1 to 128 letters, digits or ._:-');
  }
  return header;
});
