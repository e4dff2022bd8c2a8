import { type ArgumentMetadata, HttpStatus, ValidationError, ValidationPipe } from '@nestjs/common';
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

/**
 * Deepest JSON nesting a body may have. Bodies of this API are a few levels deep; class-transformer
 * and class-validator recurse once per level, so a body nested thousands of levels overflowed the
 * stack (a 500) before this check.
 */
export const MAX_BODY_DEPTH = 64;

/** The nesting depth of a parsed JSON value, counted without recursion (so it cannot overflow). */
export function jsonDepth(value: unknown): number {
  let deepest = 0;
  const pending: [unknown, number][] = [[value, 0]];
  while (pending.length > 0) {
    const [current, depth] = pending.pop()!;
    if (current === null || typeof current !== 'object') {
      continue;
    }
    deepest = Math.max(deepest, depth + 1);
    if (deepest > MAX_BODY_DEPTH) {
      return deepest;
    }
    for (const child of Object.values(current as Record<string, unknown>)) {
      pending.push([child, depth + 1]);
    }
  }
  return deepest;
}

/** ValidationPipe that refuses a body nested too deeply before it is transformed. */
class DepthCheckedValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'body' && jsonDepth(value) > MAX_BODY_DEPTH) {
      throw new FieldErrorsException(HttpStatus.BAD_REQUEST, [{ field: 'body', message: `the JSON body is nested deeper than ${MAX_BODY_DEPTH} levels` }]);
    }
    return super.transform(value, metadata);
  }
}

/** The global pipe: DTOs are transformed, unknown fields are refused, every error names its field. */
export function createValidationPipe(): ValidationPipe {
  return new DepthCheckedValidationPipe({
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
