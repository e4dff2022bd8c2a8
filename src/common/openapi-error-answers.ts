import type { OpenAPIObject, OperationObject, ParameterObject, ReferenceObject, ResponseObject, ResponsesObject, SchemaObject } from '@nestjs/swagger';
import { API_KEY_SECURITY } from '@app/common/tenant/api-key.security';

const ERROR_RESPONSE_REF = '#/components/schemas/ErrorResponseDto';
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'] as const;

/**
 * The error answers every API-key operation can give whatever its controller declares, added where
 * the operation does not declare the status itself (its own description wins):
 * - 400 when it takes a parameter or a body: the global ValidationPipe refuses a malformed or
 *   unknown one (common/validation.pipe.ts);
 * - 422 likewise: the ML Service's own checks are finer than the DTOs', and the client passes its
 *   422 through (ml/client/ml-service.client.ts);
 * - 404 when it has a path parameter: the resource is unknown, or another tenant's.
 * 401/502/503/504 are declared on every ML controller by TenantScopedMlApi (ml/ml-api.decorator.ts).
 */
function addedErrors(operation: OperationObject): Record<string, string> {
  // @nestjs/swagger writes parameters inline, never as references.
  const parameters = (operation.parameters ?? []) as ParameterObject[];
  const takesInput = parameters.length > 0 || operation.requestBody !== undefined;
  return {
    ...(takesInput ? { '400': 'A malformed or unknown parameter, header or body field; `errors` names the fields.' } : {}),
    ...(takesInput ? { '422': 'A value the ML Service refused (its checks are finer than these); `errors` names the fields.' } : {}),
    ...(parameters.some((parameter) => parameter.in === 'path') ? { '404': "Unknown, or another tenant's." } : {}),
  };
}

function isApiKeyOperation(operation: OperationObject): boolean {
  return (operation.security ?? []).some((requirement) => API_KEY_SECURITY in requirement);
}

function isErrorStatus(status: string): boolean {
  return status.startsWith('4') || status.startsWith('5');
}

/** The JSON schema of the operation's declared errors (the v2 routes have their own body), else ErrorResponseDto. */
function errorSchemaOf(responses: ResponsesObject): SchemaObject | ReferenceObject {
  for (const [status, response] of Object.entries(responses)) {
    const schema = isErrorStatus(status) ? (response as ResponseObject | undefined)?.content?.['application/json']?.schema : undefined;
    if (schema !== undefined) {
      return schema;
    }
  }
  return { $ref: ERROR_RESPONSE_REF };
}

/**
 * Completes the generated document with the error answers as they really leave, once for every
 * operation rather than on each controller:
 * - every error body is JSON (GlobalExceptionFilter, the v2 filter), also on routes whose success
 *   is an event stream, a page or an image; @nestjs/swagger files an operation's errors under its
 *   `@ApiProduces` media type, so they are moved to `application/json`;
 * - the statuses of `addedErrors` on every operation called with an API key, so a route added
 *   later is described without edits.
 * Schemathesis's conformance checks hold both services to their documents (scripts/fuzz-openapi.py).
 */
export function documentErrorAnswers(document: OpenAPIObject): OpenAPIObject {
  for (const pathItem of Object.values(document.paths)) {
    for (const method of METHODS) {
      const operation = pathItem[method];
      if (operation === undefined) {
        continue;
      }
      const responses = operation.responses;
      const errorSchema = errorSchemaOf(responses);
      for (const [status, response] of Object.entries(responses)) {
        // @nestjs/swagger writes responses inline, never as references.
        const content = (response as ResponseObject | undefined)?.content;
        if (isErrorStatus(status) && content !== undefined && Object.keys(content).some((type) => type !== 'application/json')) {
          const schema = content['application/json']?.schema ?? Object.values(content)[0]?.schema ?? errorSchema;
          (response as ResponseObject).content = { 'application/json': { schema } };
        }
      }
      if (!isApiKeyOperation(operation)) {
        continue;
      }
      for (const [status, description] of Object.entries(addedErrors(operation))) {
        responses[status] ??= { description, content: { 'application/json': { schema: errorSchema } } };
      }
    }
  }
  return document;
}
