import { HttpException } from '@nestjs/common';

/** The HttpException a call rejects with; fails the test if it resolves or rejects otherwise. */
export async function failureOf(promise: Promise<unknown>): Promise<HttpException> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof HttpException)) {
    throw new Error(`expected an HttpException, got ${String(error)}`);
  }
  return error;
}
