import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import type { App } from 'supertest/types';
import type { ChatResponseDto } from '@app/ml/chat/dto/chat.dto';
import { ACME_KEY, mlServiceUrl, startAiService } from '@test/support/ai-service';
import { type LoopbackServer, startLoopbackServer } from '@test/support/loopback-server';

/** A chat completions answer as OpenAI-compatible servers send it. */
function completion(response: ServerResponse, message: Record<string, unknown>): void {
  response.writeHead(200, { 'Content-Type': 'application/json' });
  response.end(JSON.stringify({ id: 'cmpl-1', object: 'chat.completion', model: 'scripted-model', choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', ...message } }] }));
}

function toolCall(name: string, args: Record<string, unknown>): Record<string, unknown> {
  return { content: null, tool_calls: [{ id: `call-${name}`, type: 'function', function: { name, arguments: JSON.stringify(args) } }] };
}

/**
 * Chat's optional model path against a scripted OpenAI-compatible server (a fault-injection double
 * started here) and the real ML Service: the model's tool calls run through the registry, a
 * destructive one still waits for a yes (enforced outside the model), and an erroring, silent,
 * confused or unreachable model leaves the embedded understanding to answer.
 */
describe('chat with an OpenAI-compatible model (LLM_BASE_URL)', () => {
  let app: INestApplication<App>;
  let llm: LoopbackServer;

  async function say(message: string, conversationId?: string): Promise<ChatResponseDto> {
    const response = await request(app.getHttpServer())
      .post('/api/v1/ml/chat')
      .set('X-API-Key', ACME_KEY)
      .send({ message, ...(conversationId === undefined ? {} : { conversation_id: conversationId }) })
      .expect(200);
    return response.body as ChatResponseDto;
  }

  beforeAll(async () => {
    llm = await startLoopbackServer((_request, response, number) => {
      if (number === 1) completion(response, toolCall('ServingController_createDeployment', { model_name: 'churn-xgboost', version: 1 }));
      else if (number === 2) completion(response, toolCall('DatasetsController_listDatasets', {}));
      else if (number === 3) {
        response.writeHead(500, { 'Content-Type': 'application/json' });
        response.end('{"error":{"message":"overloaded"}}');
      } else if (number === 4) completion(response, { content: 'I can only help with machine learning on your data.' });
      else if (number === 5) {
        // Never answers: chat gives up after LLM_TIMEOUT.
      } else completion(response, toolCall('RunArbitrarySql', { sql: 'DROP TABLE x' }));
    });
    app = await startAiService({ MODULE_ML_ENABLED: 'true', ML_SERVICE_URL: mlServiceUrl(), LLM_BASE_URL: `${llm.url}/v1`, LLM_MODEL: 'scripted-model', LLM_API_KEY: 'test-llm-key', LLM_TIMEOUT: '2' });
  });

  afterAll(async () => {
    await app.close();
    await llm.close();
  });

  it("sends the registry's tools and the key; a destructive call the model proposes still waits for a yes", async () => {
    const asked = await say('ship churn-xgboost v1');
    const sent = JSON.parse(llm.requests[0].body) as { model: string; tools: { function: { name: string; parameters: { required?: string[] } } }[] };
    expect(llm.requests[0].url).toBe('/v1/chat/completions');
    expect(llm.requests[0].headers.authorization).toBe('Bearer test-llm-key');
    expect(sent.model).toBe('scripted-model');
    expect(sent.tools.find((tool) => tool.function.name === 'TrainingController_submitTrainingJob')?.function.parameters.required).toEqual(expect.arrayContaining(['algorithm', 'target_column']));
    expect(asked).toMatchObject({ understood_by: 'llm', agent: 'serving', needs_confirmation: true });
    expect(asked.tool_calls).toEqual([{ tool: 'ServingController_createDeployment', arguments: { model_name: 'churn-xgboost', version: 1 }, status: 'needs_confirmation' }]);
    const dropped = await say('no', asked.conversation_id);
    expect(dropped.tool_calls[0].status).toBe('cancelled');
    // The answer to a confirmation never goes to the model.
    expect(llm.requests).toHaveLength(1);
  });

  it("runs a read the model chose through the registry, for the caller's tenant", async () => {
    const answer = await say('which tables can I use?');
    expect(answer).toMatchObject({ understood_by: 'llm', agent: 'eda' });
    expect(answer.tool_calls[0]).toMatchObject({ tool: 'DatasetsController_listDatasets', status: 'done' });
    expect(JSON.stringify(answer.tool_calls[0].result)).toContain('ml_features.customer_churn');
  });

  it('falls back to the embedded understanding when the model answers 500', async () => {
    const answer = await say('list my models');
    expect(answer).toMatchObject({ understood_by: 'embedded', agent: 'registry' });
    expect(answer.tool_calls[0].tool).toBe('RegistryController_searchRegisteredModels');
  });

  it("passes the model's plain answer on when it calls no tool", async () => {
    const answer = await say("what's a good name for my cat?");
    expect(answer).toMatchObject({ understood_by: 'llm', agent: 'none', tool_calls: [], reply: 'I can only help with machine learning on your data.' });
  });

  it('falls back when the model does not answer in time, and when it names a tool that does not exist', async () => {
    const slow = await say('what datasets do I have?');
    expect(slow).toMatchObject({ understood_by: 'embedded', agent: 'eda' });
    expect(llm.requests[4].abandoned).toBe(true);
    const confused = await say('what datasets do I have?');
    expect(confused).toMatchObject({ understood_by: 'embedded', agent: 'eda' });
    expect(confused.tool_calls[0].tool).toBe('DatasetsController_listDatasets');
  });
});
