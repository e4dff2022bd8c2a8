import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { NestFactory } from '@nestjs/core';
import { AppModule } from '@app/app.module';
import { createOpenApiDocument, sortKeysDeep } from '@app/openapi.document';

/**
 * Writes the AI Service's OpenAPI document (sorted keys) to the path given as argument, without
 * listening on a port. Run with MODULE_ML_ENABLED=true so the ML routes are included.
 */
async function exportOpenApi(outputPath: string): Promise<void> {
  const app = await NestFactory.create(AppModule, { logger: ['error'] });
  const document = sortKeysDeep(createOpenApiDocument(app));
  writeFileSync(outputPath, `${JSON.stringify(document, null, 2)}\n`);
  await app.close();
}

const outputPath = process.argv[2];
if (outputPath === undefined) {
  console.error('usage: export-openapi <output.json>');
  process.exit(2);
}
exportOpenApi(outputPath).catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
