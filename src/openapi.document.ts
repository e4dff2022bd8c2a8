import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { documentErrorAnswers } from '@app/common/openapi-error-answers';
import { API_KEY_SECURITY } from '@app/common/tenant/api-key.security';

export function createOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('AI Service')
    .setDescription('ML Integration: training (seed 001) in front of the ML Service. Authorize with an API key, e.g. dev-acme-key.')
    .setVersion('0.1.0')
    .addApiKey({ type: 'apiKey', in: 'header', name: 'X-API-Key' }, API_KEY_SECURITY)
    .build();
  return documentErrorAnswers(SwaggerModule.createDocument(app, config));
}

/** Keys sorted at every level, so the committed document only changes when the API does. */
export function sortKeysDeep(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value.map(sortKeysDeep);
  }
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, sortKeysDeep((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}
