import type { Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { WsAdapter } from '@nestjs/platform-ws';
import { Test } from '@nestjs/testing';
import type { App } from 'supertest/types';
import { WebSocket } from 'ws';
import { CommonModule } from '@app/common/common.module';
import { ApiKeyTenantResolver } from '@app/common/tenant/api-key.tenant-resolver';
import { MlModule } from '@app/ml/ml.module';

/** What a WebSocket client of a progress gateway received: each `{event, data}` message, and the close code. */
export interface Received {
  messages: { event: string; data: Record<string, unknown> }[];
  code: number;
}

/** Every message of one WebSocket connection, and how it closed. */
export function follow(url: string, headers: Record<string, string> = {}): Promise<Received> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { headers });
    const messages: Received['messages'] = [];
    socket.on('message', (data: Buffer) => messages.push(JSON.parse(data.toString('utf8')) as Received['messages'][number]));
    socket.on('close', (code) => resolve({ messages, code }));
    socket.on('error', reject);
  });
}

/**
 * The ML Service's SSE answer to an events request, as its `sse.py` writes it: a keep-alive
 * comment, then `id`/`event`/`data` per event. `cut` sends the first two events and then drops
 * the socket, as an ML Service going away mid-stream would.
 */
export function writeEventStream(response: ServerResponse, events: readonly { type: string }[], ending: 'complete' | 'cut'): void {
  response.writeHead(200, { 'content-type': 'text/event-stream' });
  response.write(': keep-alive\n\n');
  const sent = ending === 'cut' ? events.slice(0, 2) : events;
  sent.forEach((event, index) => response.write(`id: ${index + 1}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`));
  if (ending === 'cut') {
    setTimeout(() => response.socket?.destroy(), 100); // once the events are out
  } else {
    response.end();
  }
}

/**
 * The AI Service's ML module with the WebSocket adapter, on a loopback port, calling the ML
 * Service at `mlServiceUrl` once per request (no retries); the API key `acme-key` is tenant
 * `acme-corp`. `wsBase` is `ws://127.0.0.1:<port>`.
 */
export async function startProgressApp(mlServiceUrl: string): Promise<{ app: INestApplication<App>; wsBase: string }> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      CommonModule,
      MlModule.forRoot({
        mlServiceUrl,
        maxAttempts: 1,
        tenantResolver: new ApiKeyTenantResolver(new Map([['acme-key', 'acme-corp']])),
      }),
    ],
  }).compile();
  const app = moduleRef.createNestApplication<INestApplication<App>>({ logger: false });
  app.useWebSocketAdapter(new WsAdapter(app));
  await app.listen(0, '127.0.0.1');
  const { port } = (app.getHttpServer() as unknown as Server).address() as AddressInfo;
  return { app, wsBase: `ws://127.0.0.1:${port}` };
}
