import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import type { App } from 'supertest/types';
import type { ChatResponseDto } from '@app/ml/chat/dto/chat.dto';
import type { TrainingJobResponseDto } from '@app/ml/training/dto/training-job-response.dto';
import { GLOBEX_KEY, HOOLI_KEY, mlServiceUrl, startAiService } from '@test/support/ai-service';

const ENDED = new Set(['completed', 'failed', 'cancelled']);

/**
 * Issue 16's "done when", as a person would type it: seed 000's six queries in one conversation on
 * the real ML Service (trains, tunes, explains with the chart, deploys after a yes, reports the
 * deployed model's accuracy saying where it comes from, profiles with alerts), then the follow-ups
 * "roll it back" and "now deploy it", plan mode, and another tenant's 404.
 */
describe('chat (POST /api/v1/ml/chat) on the real stack', () => {
  let app: INestApplication<App>;
  let conversationId = '';
  let jobId = '';
  const deployments: string[] = [];
  let deployedModel = '';

  function api(method: 'get' | 'post' | 'delete', url: string, apiKey = HOOLI_KEY): request.Test {
    return request(app.getHttpServer())[method](url).set('X-API-Key', apiKey);
  }

  async function say(message: string, extra: Record<string, unknown> = {}): Promise<ChatResponseDto> {
    const response = await api('post', '/api/v1/ml/chat')
      .send({ message, ...(conversationId === '' ? {} : { conversation_id: conversationId }), ...extra })
      .expect(200);
    const body = response.body as ChatResponseDto;
    conversationId = body.conversation_id;
    return body;
  }

  beforeAll(async () => {
    app = await startAiService({ MODULE_ML_ENABLED: 'true', ML_SERVICE_URL: mlServiceUrl() });
  });

  afterAll(async () => {
    for (const modelId of deployments) await api('delete', `/api/v1/ml/serving/deployments/${modelId}`);
    await app.close();
  });

  // Tenant hooli: "the best churn model" must be this conversation's, whatever other specs trained.
  it('1. "Train a model to predict customer churn" trains one on the churn table', async () => {
    const answer = await say('Train a model to predict customer churn');
    expect(answer.agent).toBe('training');
    expect(answer.tool_calls).toHaveLength(1);
    expect(answer.tool_calls[0]).toMatchObject({
      tool: 'TrainingController_submitTrainingJob',
      status: 'done',
      arguments: { algorithm: 'xgboost', task_type: 'classification', target_column: 'churned', dataset: { table: 'ml_features.customer_churn' } },
    });
    jobId = (answer.tool_calls[0].result as TrainingJobResponseDto).job_id;
    expect(answer.reply).toContain(jobId);
    const deadline = Date.now() + 240_000;
    let job: TrainingJobResponseDto;
    for (;;) {
      job = (await api('get', `/api/v1/ml/train/${jobId}`).expect(200)).body as TrainingJobResponseDto;
      if (ENDED.has(job.status) || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(job.status).toBe('completed');
  });

  it('2. "Tune the learning rate for my churn model" launches a sweep from that job', async () => {
    const answer = await say('Tune the learning rate for my churn model');
    expect(answer.agent).toBe('tuning');
    expect(answer.tool_calls[0]).toMatchObject({ tool: 'TuningController_submitTuningSweepFromBase', status: 'done', arguments: { base_job_id: jobId, search_space: { learning_rate: { type: 'loguniform' } } } });
    const sweepId = (answer.tool_calls[0].result as { sweep_id: string }).sweep_id;
    expect(sweepId).toMatch(/^sweep-[0-9a-f]{12}$/);
    // The sweep itself is tuning's e2e; here it only has to start. Stop it to free the CPUs.
    await api('delete', `/api/v1/ml/tuning/${sweepId}`);
  });

  it('3. "What features are most important for churn?" answers from that job, with the chart', async () => {
    const answer = await say('What features are most important for churn?');
    expect(answer.agent).toBe('analysis');
    expect(answer.tool_calls[0]).toMatchObject({ tool: 'TrainingController_getTrainingJob', status: 'done', arguments: { job_id: jobId } });
    expect(answer.reply).toMatch(/Most important features .*(tenure|contract_type|monthly_charges)/);
    const chart = answer.links.find((link) => link.href.endsWith('/charts/feature_importance'));
    expect(chart?.href).toBe(`/api/v1/ml/train/${jobId}/charts/feature_importance`);
    await api('get', chart?.href ?? '').set('Accept', 'image/png').expect(200);
  });

  it('4. "Deploy the best churn model to production" asks first, then deploys on "yes"', async () => {
    const asked = await say('Deploy the best churn model to production');
    expect(asked.agent).toBe('serving');
    expect(asked.needs_confirmation).toBe(true);
    expect(asked.confirmation_id).toMatch(/^confirm-/);
    expect(asked.tool_calls.map((call) => call.status)).toEqual(asked.tool_calls.map(() => 'needs_confirmation'));
    expect(asked.tool_calls.at(-1)?.tool).toBe('ServingController_createDeployment');
    expect(String(asked.tool_calls.at(-1)?.arguments.model_name)).toMatch(/churn/);
    const done = await say('yes');
    expect(done.needs_confirmation).toBe(false);
    expect(done.tool_calls.every((call) => call.status === 'done')).toBe(true);
    const deployment = done.tool_calls.at(-1)?.result as { model_id: string; model_name: string };
    deployments.push(deployment.model_id);
    deployedModel = deployment.model_name;
    expect(done.reply).toContain(deployment.model_id);
    // Asked again, the model is already serving: nothing to confirm, nothing deployed twice.
    const again = await say('Deploy the best churn model to production');
    expect(again).toMatchObject({ needs_confirmation: false, tool_calls: [{ tool: 'ServingController_getDeployment', status: 'done', arguments: { model_id: deployment.model_id } }] });
    expect(again.reply).toMatch(/already serving/);
  });

  it('5. "How accurate is my deployed model?" says there is no feedback and gives the test metrics', async () => {
    const answer = await say('How accurate is my deployed model?');
    expect(answer.agent).toBe('monitoring');
    expect(answer.tool_calls[0]).toMatchObject({ tool: 'ServingController_getServingMetrics', status: 'done', arguments: { model_id: deployments[0] } });
    expect(answer.reply).toMatch(/No feedback has been recorded .* test-split metrics .*accuracy 0\.\d{3}/);
  });

  it('6. "Profile the customer dataset" profiles the churn table in play, with its alerts', async () => {
    const answer = await say('Profile the customer dataset');
    expect(answer.agent).toBe('eda');
    expect(answer.tool_calls[0]).toMatchObject({ tool: 'EdaController_createProfile', status: 'done', arguments: { dataset: { table: 'ml_features.customer_churn' } } });
    expect(answer.reply).toMatch(/Profiled ml_features\.customer_churn: \d+ alerts?/);
    expect(answer.reply).toMatch(/customer_id/);
    expect(answer.links.some((link) => link.href.endsWith('/report'))).toBe(true);
  });

  it('"roll it back" acts on the deployment in play, after a yes', async () => {
    const asked = await say('roll it back');
    expect(asked).toMatchObject({ agent: 'serving', needs_confirmation: true });
    expect(asked.tool_calls).toEqual([{ tool: 'ServingController_rollbackDeployment', arguments: { model_id: deployments[0] }, status: 'needs_confirmation' }]);
    const done = await say('yes', { confirmation_id: asked.confirmation_id });
    expect(done.tool_calls[0].arguments).toEqual({ model_id: deployments[0] });
    // One version only: the ML Service refuses to roll back with its reason, which chat passes on.
    expect(['done', 'failed']).toContain(done.tool_calls[0].status);
  });

  it('"now deploy it" says the model in play is already serving; "undeploy it" asks, and "no" drops it', async () => {
    const serving = await say('now deploy it');
    expect(serving).toMatchObject({ needs_confirmation: false, tool_calls: [{ tool: 'ServingController_getDeployment', status: 'done' }] });
    expect(serving.reply).toContain(`${deployedModel} version`);
    const asked = await say('undeploy it');
    expect(asked.needs_confirmation).toBe(true);
    expect(asked.tool_calls).toEqual([{ tool: 'ServingController_deleteDeployment', arguments: { model_id: deployments[0] }, status: 'needs_confirmation' }]);
    const dropped = await say('no');
    expect(dropped.reply).toMatch(/nothing was done/);
    expect(dropped.tool_calls.every((call) => call.status === 'cancelled')).toBe(true);
    const again = await api('post', '/api/v1/ml/chat').send({ conversation_id: conversationId, confirmation_id: asked.confirmation_id, confirm: true }).expect(404);
    expect(JSON.stringify(again.body)).toContain('confirmation_id');
  });

  it('plan mode does nothing; out of scope does nothing; another tenant cannot read the conversation', async () => {
    const before = ((await api('get', '/api/v1/ml/train').expect(200)).body as { jobs: unknown[] }).jobs.length;
    const plan = await say('train lightgbm to predict churn', { mode: 'plan' });
    expect(plan.tool_calls[0]).toMatchObject({ tool: 'TrainingController_submitTrainingJob', status: 'planned', arguments: { algorithm: 'lightgbm' } });
    expect(((await api('get', '/api/v1/ml/train').expect(200)).body as { jobs: unknown[] }).jobs.length).toBe(before);
    const refused = await say('drop table customers');
    expect(refused).toMatchObject({ agent: 'none', tool_calls: [] });
    await api('post', '/api/v1/ml/chat', GLOBEX_KEY).send({ message: 'roll it back', conversation_id: conversationId }).expect(404);
    await api('post', '/api/v1/ml/chat').send({ message: '' }).expect(400);
  });
});
