import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, registerDecorator, type ValidationArguments, type ValidationOptions } from 'class-validator';

/**
 * Why `value` is not a safe artifact path, or undefined when it is one: a relative POSIX path that
 * stays inside the run's artifact root. Express has already decoded the query once, so a `%` left
 * over is an encoding meant to survive a second decoding (`%252e%252e` → `%2e%2e` → `..`) and is
 * refused as such. The ML Service checks again and also resolves the path against the root.
 */
export function artifactPathProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') {
    return 'must be a string';
  }
  if (value.length === 0 || value.length > 1024) {
    return 'must be 1 to 1024 characters';
  }
  if (value.includes('\0')) {
    return 'must not contain NUL characters';
  }
  if (value.includes('%')) {
    return 'must not contain percent-escapes (it is already decoded once)';
  }
  if (value.includes('\\')) {
    return 'must use forward slashes, not backslashes';
  }
  if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(value)) {
    return 'must be a relative path, not a URI (no scheme such as file:)';
  }
  if (value.startsWith('/')) {
    return 'must be a relative path (no leading /)';
  }
  if (value.split('/').includes('..')) {
    return 'must not contain .. segments';
  }
  return undefined;
}

function IsSafeArtifactPath(options?: ValidationOptions): PropertyDecorator {
  return (target: object, propertyName: string | symbol) =>
    registerDecorator({
      name: 'isSafeArtifactPath',
      target: target.constructor,
      propertyName: String(propertyName),
      options,
      validator: {
        validate: (value: unknown) => artifactPathProblem(value) === undefined,
        defaultMessage: (args?: ValidationArguments) => `${args?.property ?? 'path'} ${artifactPathProblem(args?.value) ?? 'is invalid'}`,
      },
    });
}

const DESCRIPTION =
  "A path relative to the run's artifact root, POSIX separators: no `..` segments, backslashes, leading `/`, scheme (`file:`), NUL or percent-escapes.";

/** An artifact path query parameter: documented and checked the same way wherever it appears. */
export function ArtifactPath(options: { required: boolean; example?: string }): PropertyDecorator {
  const documented = options.required
    ? ApiProperty({ description: DESCRIPTION, example: options.example })
    : ApiPropertyOptional({ description: `${DESCRIPTION} Omitted: the root.`, example: options.example });
  return applyDecorators(documented, ...(options.required ? [] : [IsOptional()]), IsString(), IsSafeArtifactPath());
}
