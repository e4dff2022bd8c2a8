import { HttpStatus, ValidationError, ValidationPipe } from '@nestjs/common';
import { FieldError, FieldErrorsException } from '@app/common/filters/field-errors.exception';

/** Flattens class-validator's tree into `split.test_size`-style paths, the way callers name fields. */
export function flattenValidationErrors(errors: ValidationError[], parentPath = ''): FieldError[] {
  return errors.flatMap((error) => {
    const isIndex = /^\d+$/.test(error.property);
    const field = parentPath === '' ? error.property : isIndex ? `${parentPath}[${error.property}]` : `${parentPath}.${error.property}`;
    const own = Object.values(error.constraints ?? {}).map((constraint) => ({
      field,
      // class-validator starts each message with the bare property name; the full path is clearer.
      message: constraint.startsWith(`${error.property} `) ? `${field} ${constraint.slice(error.property.length + 1)}` : constraint,
    }));
    return [...own, ...flattenValidationErrors(error.children ?? [], field)];
  });
}

/** The global pipe: DTOs are transformed, unknown fields are refused, every error names its field. */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    transform: true,
    whitelist: true,
    forbidNonWhitelisted: true,
    // One reason per field: "must be a string" is all a missing field needs to say.
    stopAtFirstError: true,
    exceptionFactory: (errors) => {
      const fieldErrors = flattenValidationErrors(errors);
      return new FieldErrorsException(
        HttpStatus.BAD_REQUEST,
        fieldErrors,
        fieldErrors.map((error) => error.message).join('; '),
      );
    },
  });
}
