import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import type { App } from 'supertest/types';
import type { ChatResponseDto } from '@app/ml/chat/dto/chat.dto';
import { ACME_KEY, mlServiceUrl, startAiService } from '@test/support/ai-service';

/** The events of a text/event-stream body, in order. */
function events(body: string): { event: string; data: Record<string, unknown> }[] {
  return body
    .split('\n\n')
    .filter((block) => block.trim() !== '')
    .map((block) => {
      const event = /^event: (.*)$/m.exec(block)?.[1] ?? '';
      const data = JSON.parse(/^data: (.*)$/m.exec(block)?.[1] ?? 'null') as Record<string, unknown>;
      return { event, data };
    });
}

/** POST /api/v1/ml/chat/stream on the real ML Service: the agent's steps as Server-Sent Events, then the answer. */
describe('chat as Server-Sent Events (POST /api/v1/ml/chat/stream)', () => {
  let app: INestApplication<App>;

  beforeAll(async () => {
    app = await startAiService({ MODULE_ML_ENABLED: 'true', ML_SERVICE_URL: mlServiceUrl() });
  });

  afterAll(async () => {
    await app.close();
  });

  it('streams understood, each tool call and its result, then the answer', async () => {
    const response = await request(app.getHttpServer()).post('/api/v1/ml/chat/stream').set('X-API-Key', ACME_KEY).send({ message: 'what datasets do I have?' }).expect(200);
    expect(response.headers['content-type']).toMatch(/^text\/event-stream/);
    const stream = events(response.text);
    expect(stream.map((item) => item.event)).toEqual(['understood', 'tool_call', 'tool_result', 'answer']);
    expect(stream[0].data).toMatchObject({ agent: 'eda', understood_by: 'embedded', tool_calls: [{ tool: 'DatasetsController_listDatasets', status: 'planned' }] });
    expect(stream[2].data).toMatchObject({ tool: 'DatasetsController_listDatasets', status: 'done' });
    const answer = stream[3].data as unknown as ChatResponseDto;
    expect(answer.tool_calls[0].status).toBe('done');
    expect(JSON.stringify(answer.tool_calls[0].result)).toContain('ml_features.customer_churn');
  });

  it('a destructive plan streams its plan and stops at the question', async () => {
    const response = await request(app.getHttpServer()).post('/api/v1/ml/chat/stream').set('X-API-Key', ACME_KEY).send({ message: 'delete the model churn-never-was' }).expect(200);
    const stream = events(response.text);
    expect(stream.map((item) => item.event).at(-1)).toBe('answer');
    expect(stream.some((item) => item.event === 'tool_call')).toBe(false);
  });

  it('answers an unknown conversation with the usual JSON 404, before any event', async () => {
    const response = await request(app.getHttpServer())
      .post('/api/v1/ml/chat/stream')
      .set('X-API-Key', ACME_KEY)
      .send({ message: 'list my models', conversation_id: 'conv-00000000-0000-0000-0000-000000000000' })
      .expect(404);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.stringify(response.body)).toContain('conversation_id');
  });
});
