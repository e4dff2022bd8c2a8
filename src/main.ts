import 'reflect-metadata';
import { ConsoleLogger, Logger } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import { SwaggerModule } from '@nestjs/swagger';
import { appConfig } from '@app/config/app.config';
import { readEnvironment } from '@app/config/environment';
import { configureApp } from '@app/configure-app';
import { createHttpAdapter } from '@app/http-adapter';
import { createOpenApiDocument } from '@app/openapi.document';

async function bootstrap(): Promise<void> {
  // Validate before AppModule is loaded: its imports read the configuration while loading, and a
  // bad variable should end in one readable message rather than a stack from inside a require.
  const { LOG_FORMAT } = readEnvironment();
  const { AppModule } = await import('@app/app.module.js');
  // JSON lines put the request log's fields (request_id, tenant_id, path, status, duration_ms) at
  // the top level of each object, next to Nest's level, timestamp, message and context.
  const logger = new ConsoleLogger(LOG_FORMAT === 'json' ? { json: true, flattenParams: true } : {});
  const app = await NestFactory.create(AppModule, createHttpAdapter(), { bodyParser: false, logger });
  configureApp(app);
  // Lets SIGTERM close the HTTP server and in-flight ML Service calls before the process exits.
  app.enableShutdownHooks();
  SwaggerModule.setup('docs', app, createOpenApiDocument(app), { jsonDocumentUrl: 'docs-json' });
  const { port, host } = app.get<ConfigType<typeof appConfig>>(appConfig.KEY);
  await app.listen(port, host);
  Logger.log(`AI Service listening on http://${host}:${port} (Swagger UI at /docs)`, 'Bootstrap');
}

bootstrap().catch((error: unknown) => {
  // Configuration errors are meant for people: print the message, not a stack.
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
