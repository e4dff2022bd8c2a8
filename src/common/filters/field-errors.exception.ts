import { HttpException } from '@nestjs/common';

export interface FieldError {
  field: string;
  message: string;
}

/** An HTTP error carrying per-field reasons; the global filter renders it as `{ message, errors }`. */
export class FieldErrorsException extends HttpException {
  constructor(
    status: number,
    readonly fieldErrors: FieldError[],
    message: string = fieldErrors.map((error) => `${error.field}: ${error.message}`).join('; '),
  ) {
    super(message, status);
  }
}
