import { HttpStatus, type INestApplication } from '@nestjs/common';
import { WsAdapter } from '@nestjs/platform-ws';
import type { FastifyInstance } from 'fastify';
import { FieldErrorsException } from '@app/common/filters/field-errors.exception';
import { jsonBodyParser, parseJson } from '@app/common/http/json-body.parser';
import { rememberRouteTemplate } from '@app/metrics/http-metrics.middleware';

/**
 * What the standalone AI Service (main.ts), its end-to-end tests and a host application set on the
 * Nest application, written once so the tests run the service as it ships. On Express the
 * application must be created with `{ bodyParser: false }`: this installs the JSON body parser
 * itself. On Fastify (createHttpAdapter in http-adapter.ts) it replaces Fastify's JSON parser with
 * the same reading.
 */
export function configureApp(app: INestApplication): void {
  if (app.getHttpAdapter().getType() === 'fastify') {
    configureFastify(app.getHttpAdapter().getInstance() as FastifyInstance);
  } else {
    app.use(jsonBodyParser());
  }
  // Plain WebSockets (the `ws` package) for the job progress stream: any client can speak them.
  app.useWebSocketAdapter(new WsAdapter(app));
}

/**
 * Fastify reads bodies as Express did here (json-body.parser.ts): JSON, with Python's `NaN` and
 * `Infinity` literals, also when the Content-Type is missing; other types unread as a body; a
 * multipart upload left unread for multer (DatasetUploadInterceptor), which streams it to disk.
 */
function configureFastify(fastify: FastifyInstance): void {
  fastify.removeContentTypeParser(['application/json', 'text/plain']);
  const readJson = (_request: unknown, body: string, done: (error: Error | null, value?: unknown) => void): void => {
    try {
      done(null, parseJson(body));
    } catch (error) {
      done(new FieldErrorsException(HttpStatus.BAD_REQUEST, [{ field: 'body', message: `not valid JSON: ${(error as Error).message}` }]));
    }
  };
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, readJson);
  fastify.addContentTypeParser(/^application\/[^;]+\+json/, { parseAs: 'string' }, readJson);
  fastify.addContentTypeParser('multipart/form-data', (_request, _payload, done) => done(null));
  fastify.addContentTypeParser('*', { parseAs: 'string' }, (request, body, done) => {
    const contentType = request.raw.headers['content-type'];
    if (contentType === undefined || contentType === '') {
      readJson(request, body as string, done);
    } else {
      done(null, undefined);
    }
  });
  // the request-duration histogram's route label (HttpMetricsMiddleware reads the Node request)
  fastify.addHook('onRequest', (request, _reply, done) => {
    rememberRouteTemplate(request.raw, request.routeOptions.url);
    done();
  });
}
