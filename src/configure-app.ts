import type { INestApplication } from '@nestjs/common';
import { WsAdapter } from '@nestjs/platform-ws';
import { jsonBodyParser } from '@app/common/http/json-body.parser';

/**
 * What the standalone AI Service (main.ts) and its end-to-end tests set on the Nest application,
 * written once so the tests run the service as it ships. The application must be created with
 * `{ bodyParser: false }`: this installs the JSON body parser itself.
 */
export function configureApp(app: INestApplication): void {
  app.use(jsonBodyParser());
  // Plain WebSockets (the `ws` package) for the job progress stream: any client can speak them.
  app.useWebSocketAdapter(new WsAdapter(app));
}
