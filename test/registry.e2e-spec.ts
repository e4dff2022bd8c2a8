import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import type { App } from 'supertest/types';
import type {
  AuditTrailResponseDto,
  ModelDeletionResponseDto,
  ModelVersionResponseDto,
  RegisteredModelListResponseDto,
  RegisteredModelResponseDto,
} from '@app/ml/registry/dto/registry-responses.dto';
import type {
  ArtifactListResponseDto,
  ExperimentListResponseDto,
  LoggedModelResponseDto,
  RunComparisonResponseDto,
  RunPageResponseDto,
  RunResponseDto,
} from '@app/ml/tracking/dto/tracking-responses.dto';
import type { CreateTrainingJobDto } from '@app/ml/training/dto/create-training-job.dto';
import type { TrainingJobResponseDto } from '@app/ml/training/dto/training-job-response.dto';
import { seedTrainingConfig } from '@app/ml/training/training.fixtures';
import { ACME_KEY, GLOBEX_KEY, mlServiceUrl, startAiService } from '@test/support/ai-service';

const ENDED = new Set(['completed', 'failed', 'cancelled']);
const ACME_ACTOR = `api-key:${ACME_KEY.slice(0, 8)}`;

/** globex has no demo tables: it trains on rows generated in its own query. */
const GENERATED_ROWS = {
  source: 'sql' as const,
  query: 'SELECT i AS tenure, i * 1.5 AS monthly_charges, i * 3.0 AS total_charges, (i % 2) AS churned FROM range(1000) t(i)',
};

function smallJob(name: string, hyperparameters: Record<string, number>): CreateTrainingJobDto {
  return { ...seedTrainingConfig(), name, hyperparameters: { n_estimators: 20, ...hyperparameters } };
}

/**
 * Issue 4 as a new user would try it: train two churn models, compare, register the better,
 * promote it, replace it, read the audit; then a second tenant and traversal attempts.
 */
describe('tracking and registry through the AI Service and the real ML Service', () => {
  let app: INestApplication<App>;
  /** Unique per run, so a reused ML Service (ML_SERVICE_URL_E2E) does not collide with earlier runs. */
  const modelName = `churn-e2e-${randomUUID().slice(0, 8)}`;
  const jobs: { weak?: TrainingJobResponseDto; strong?: TrainingJobResponseDto; globex?: TrainingJobResponseDto } = {};
  let better: TrainingJobResponseDto;
  let worse: TrainingJobResponseDto;

  beforeAll(async () => {
    app = await startAiService({ MODULE_ML_ENABLED: 'true', ML_SERVICE_URL: mlServiceUrl() });
  });

  afterAll(async () => {
    await app.close();
  });

  function api(method: 'get' | 'post' | 'patch' | 'put' | 'delete', url: string, apiKey = ACME_KEY): request.Test {
    return request(app.getHttpServer())[method](url).set('X-API-Key', apiKey);
  }

  async function train(config: CreateTrainingJobDto, apiKey = ACME_KEY): Promise<TrainingJobResponseDto> {
    const accepted = await api('post', '/api/v1/ml/train', apiKey).set('Idempotency-Key', randomUUID()).send(config).expect(202);
    const jobId = (accepted.body as TrainingJobResponseDto).job_id;
    const deadline = Date.now() + 240_000;
    for (;;) {
      const job = (await api('get', `/api/v1/ml/train/${jobId}`, apiKey).expect(200)).body as TrainingJobResponseDto;
      if (ENDED.has(job.status) || Date.now() > deadline) {
        return job;
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }

  it('trains two churn models with different hyperparameters (and one for globex)', async () => {
    const [weak, strong, globex] = await Promise.all([
      train(smallJob(`${modelName}-shallow`, { max_depth: 1, learning_rate: 0.05 })),
      train(smallJob(`${modelName}-deep`, { max_depth: 6, learning_rate: 0.3 })),
      train({ ...smallJob(`${modelName}-globex`, { max_depth: 3 }), dataset: GENERATED_ROWS }, GLOBEX_KEY),
    ]);
    for (const job of [weak, strong, globex]) {
      expect(job.status).toBe('completed');
      expect(job.mlflow_run_id).toMatch(/^[0-9a-f]{32}$/);
      expect(job.model_artifact_id).toEqual(expect.any(String));
    }
    Object.assign(jobs, { weak, strong, globex });
  }, 270_000);

  it('shows each job as a run with its params, metrics and dataset', async () => {
    const run = (await api('get', `/api/v1/ml/tracking/runs/${jobs.strong!.mlflow_run_id}`).expect(200)).body as RunResponseDto;
    expect(run.job_id).toBe(jobs.strong!.job_id);
    expect(run.model_artifact_id).toBe(jobs.strong!.model_artifact_id);
    expect(run.params.max_depth).toBe('6');
    expect(run.metrics.auc_roc).toEqual(expect.any(Number));

    const history = await api('get', `/api/v1/ml/tracking/runs/${run.run_id}/metrics/auc_roc/history`).expect(200);
    expect((history.body as { history: unknown[] }).history.length).toBeGreaterThan(0);

    const experiments = (await api('get', '/api/v1/ml/tracking/experiments').expect(200)).body as ExperimentListResponseDto;
    expect(experiments.experiments.map((experiment) => experiment.experiment_id)).toContain(run.experiment_id);
  });

  it('compares the two runs and names the better one', async () => {
    const runIds = [jobs.weak!.mlflow_run_id!, jobs.strong!.mlflow_run_id!];
    const comparison = (await api('post', '/api/v1/ml/tracking/runs/compare').send({ run_ids: runIds }).expect(200)).body as RunComparisonResponseDto;
    expect(comparison.runs.map((run) => run.run_id).sort()).toEqual([...runIds].sort());
    const maxDepth = comparison.params.find((param) => param.key === 'max_depth');
    expect(maxDepth?.values).toEqual({ [runIds[0]]: '1', [runIds[1]]: '6' });
    const auc = comparison.metrics.find((metric) => metric.key === 'auc_roc');
    expect(auc).toBeDefined();
    const bestRunId = auc!.best_run_id;
    expect(runIds).toContain(bestRunId);
    [better, worse] = bestRunId === jobs.strong!.mlflow_run_id ? [jobs.strong!, jobs.weak!] : [jobs.weak!, jobs.strong!];
    expect(auc!.values[better.mlflow_run_id!]!).toBeGreaterThanOrEqual(auc!.values[worse.mlflow_run_id!]!);
  });

  it('finds both runs by metrics.auc_roc > 0.5, and not by an impossible threshold', async () => {
    const found = (await api('post', '/api/v1/ml/tracking/runs/search').send({ filter: 'metrics.auc_roc > 0.5', order_by: ['metrics.auc_roc DESC'], max_results: 1000 }).expect(200))
      .body as RunPageResponseDto;
    const ids = found.runs.map((run) => run.run_id);
    expect(ids).toEqual(expect.arrayContaining([jobs.weak!.mlflow_run_id, jobs.strong!.mlflow_run_id]));
    expect(ids).not.toContain(jobs.globex!.mlflow_run_id);
    expect(found.runs.every((run) => (run.metrics.auc_roc ?? 0) > 0.5)).toBe(true);

    const none = (await api('post', '/api/v1/ml/tracking/runs/search').send({ filter: 'metrics.auc_roc > 1.5' }).expect(200)).body as RunPageResponseDto;
    expect(none.runs).toEqual([]);

    await api('post', '/api/v1/ml/tracking/runs/search').send({ filter: 'metrics.auc_roc >>> 1' }).expect(422);
  });

  it("resolves a training result's model_artifact_id", async () => {
    const model = (await api('get', `/api/v1/ml/tracking/models/${jobs.strong!.model_artifact_id}`).expect(200)).body as LoggedModelResponseDto;
    expect(model.run_id).toBe(jobs.strong!.mlflow_run_id);
    expect(model.job_id).toBe(jobs.strong!.job_id);
  });

  it("lists and downloads a run's artifacts", async () => {
    const root = (await api('get', `/api/v1/ml/tracking/runs/${jobs.strong!.mlflow_run_id}/artifacts`).expect(200)).body as ArtifactListResponseDto;
    const file = root.files.find((entry) => !entry.is_dir);
    expect(file).toBeDefined();
    const download = await api('get', `/api/v1/ml/tracking/runs/${jobs.strong!.mlflow_run_id}/artifacts/content`).query({ path: file!.path }).buffer(true).expect(200);
    expect(download.headers['content-type']).toEqual(expect.any(String));
  });

  it("lists and downloads the trained model's own files", async () => {
    const modelId = jobs.strong!.model_artifact_id!;
    const root = (await api('get', `/api/v1/ml/tracking/models/${modelId}/artifacts`).expect(200)).body as ArtifactListResponseDto;
    expect(root.files.map((entry) => entry.path)).toContain('MLmodel');
    const download = await api('get', `/api/v1/ml/tracking/models/${modelId}/artifacts/content`)
      .query({ path: 'MLmodel' })
      .buffer(true)
      .parse((res, done) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => done(null, Buffer.concat(chunks)));
      })
      .expect(200);
    expect((download.body as Buffer).toString('utf8')).toContain('flavors');
    await api('get', `/api/v1/ml/tracking/models/${modelId}/artifacts`, GLOBEX_KEY).expect(404);
  });

  it('registers the better model, promotes it to Production, then replaces it: the first is Archived', async () => {
    const first = (await api('post', `/api/v1/ml/registry/models/${modelName}/versions`).send({ job_id: better.job_id, description: 'the better of two' }).expect(201))
      .body as ModelVersionResponseDto;
    expect(first).toMatchObject({ name: modelName, version: '1', stage: 'None', job_id: better.job_id, run_id: better.mlflow_run_id });

    await api('post', `/api/v1/ml/registry/models/${modelName}/versions/1/stage`).send({ stage: 'Staging', reason: 'best auc_roc of the comparison' }).expect(200);
    const promoted = (await api('post', `/api/v1/ml/registry/models/${modelName}/versions/1/stage`).send({ stage: 'Production', reason: 'validated in staging' }).expect(200))
      .body as ModelVersionResponseDto;
    expect(promoted.stage).toBe('Production');

    const second = (await api('post', `/api/v1/ml/registry/models/${modelName}/versions`).send({ run_id: worse.mlflow_run_id }).expect(201)).body as ModelVersionResponseDto;
    expect(second.version).toBe('2');
    await api('post', `/api/v1/ml/registry/models/${modelName}/versions/2/stage`).send({ stage: 'Production', reason: 'replacement' }).expect(200);

    const archived = (await api('get', `/api/v1/ml/registry/models/${modelName}/versions/1`).expect(200)).body as ModelVersionResponseDto;
    expect(archived.stage).toBe('Archived');
    const model = (await api('get', `/api/v1/ml/registry/models/${modelName}`).expect(200)).body as RegisteredModelResponseDto;
    expect(model.production_version).toBe('2');

    await api('put', `/api/v1/ml/registry/models/${modelName}/aliases/champion`).send({ version: 2 }).expect(200);
    await api('put', `/api/v1/ml/registry/models/${modelName}/aliases/challenger`).send({ version: 1 }).expect(200);
    await api('put', `/api/v1/ml/registry/models/${modelName}/aliases/production`).send({ version: 1 }).expect(400);
    const withAliases = (await api('delete', `/api/v1/ml/registry/models/${modelName}/aliases/challenger`).expect(200)).body as RegisteredModelResponseDto;
    expect(withAliases.aliases).toMatchObject({ champion: '2', production: '2' });
    expect(withAliases.aliases.challenger).toBeUndefined();

    const inProduction = (await api('get', '/api/v1/ml/registry/models').query({ name: modelName, stage: 'Production' }).expect(200)).body as RegisteredModelListResponseDto;
    expect(inProduction.models.map((listed) => listed.name)).toEqual([modelName]);
  });

  it('records every transition in the audit with the actor', async () => {
    const audit = (await api('get', `/api/v1/ml/registry/models/${modelName}/audit`).expect(200)).body as AuditTrailResponseDto;
    const transitions = audit.events.filter((event) => event.to_stage !== null).map((event) => [event.version, event.from_stage, event.to_stage]);
    expect(transitions).toEqual(
      expect.arrayContaining([
        ['1', 'None', 'Staging'],
        ['1', 'Staging', 'Production'],
        ['1', 'Production', 'Archived'],
        ['2', 'None', 'Production'],
      ]),
    );
    expect(audit.events.every((event) => event.actor === ACME_ACTOR)).toBe(true);
    expect(audit.events.find((event) => event.to_stage === 'Staging')?.reason).toBe('best auc_roc of the comparison');
  });

  it('refuses to delete the Production version or the model holding it', async () => {
    await api('delete', `/api/v1/ml/registry/models/${modelName}/versions/2`).expect(409);
    await api('delete', `/api/v1/ml/registry/models/${modelName}`).expect(409);
  });

  it("shows globex none of acme's runs or models, and 404 for guessed ids", async () => {
    const acmeRun = jobs.strong!.mlflow_run_id!;
    const globexRuns = (await api('post', '/api/v1/ml/tracking/runs/search', GLOBEX_KEY).send({}).expect(200)).body as RunPageResponseDto;
    const globexRunIds = globexRuns.runs.map((run) => run.run_id);
    expect(globexRunIds).toContain(jobs.globex!.mlflow_run_id);
    expect(globexRunIds).not.toContain(acmeRun);
    expect(globexRunIds).not.toContain(jobs.weak!.mlflow_run_id);

    const globexModels = (await api('get', '/api/v1/ml/registry/models', GLOBEX_KEY).expect(200)).body as RegisteredModelListResponseDto;
    expect(globexModels.models.map((model) => model.name)).not.toContain(modelName);

    const acmeExperiments = (await api('get', '/api/v1/ml/tracking/experiments').expect(200)).body as ExperimentListResponseDto;
    for (const experiment of acmeExperiments.experiments) {
      await api('get', `/api/v1/ml/tracking/experiments/${experiment.experiment_id}`, GLOBEX_KEY).expect(404);
    }
    await api('get', `/api/v1/ml/tracking/runs/${acmeRun}`, GLOBEX_KEY).expect(404);
    await api('get', `/api/v1/ml/tracking/runs/${acmeRun}/metrics/auc_roc/history`, GLOBEX_KEY).expect(404);
    await api('get', `/api/v1/ml/tracking/runs/${acmeRun}/artifacts`, GLOBEX_KEY).expect(404);
    await api('get', `/api/v1/ml/tracking/runs/${acmeRun}/artifacts/content?path=MLmodel`, GLOBEX_KEY).expect(404);
    await api('post', '/api/v1/ml/tracking/runs/compare', GLOBEX_KEY).send({ run_ids: [acmeRun, jobs.globex!.mlflow_run_id] }).expect(404);
    await api('get', `/api/v1/ml/tracking/models/${jobs.strong!.model_artifact_id}`, GLOBEX_KEY).expect(404);
    await api('get', `/api/v1/ml/registry/models/${modelName}`, GLOBEX_KEY).expect(404);
    await api('get', `/api/v1/ml/registry/models/${modelName}/versions/1`, GLOBEX_KEY).expect(404);
    await api('get', `/api/v1/ml/registry/models/${modelName}/audit`, GLOBEX_KEY).expect(404);
    await api('post', `/api/v1/ml/registry/models/${modelName}/versions/1/stage`, GLOBEX_KEY).send({ stage: 'Archived' }).expect(404);
    await api('delete', `/api/v1/ml/registry/models/${modelName}?dry_run=true`, GLOBEX_KEY).expect(404);
    // Registering acme's job or run under globex is refused exactly as an unknown one.
    await api('post', `/api/v1/ml/registry/models/${modelName}/versions`, GLOBEX_KEY).send({ job_id: jobs.strong!.job_id }).expect(404);
    await api('post', `/api/v1/ml/registry/models/${modelName}/versions`, GLOBEX_KEY).send({ run_id: acmeRun }).expect(404);

    // The same name in globex is globex's own model, untouched by acme's.
    const own = (await api('post', `/api/v1/ml/registry/models/${modelName}/versions`, GLOBEX_KEY).send({ job_id: jobs.globex!.job_id }).expect(201)).body as ModelVersionResponseDto;
    expect(own.version).toBe('1');
    const acmeModel = (await api('get', `/api/v1/ml/registry/models/${modelName}`).expect(200)).body as RegisteredModelResponseDto;
    expect(acmeModel.versions.map((version) => version.version).sort()).toEqual(['1', '2']);

    // Deleting a model says what it removes; a dry run removes nothing.
    const dryRun = (await api('delete', `/api/v1/ml/registry/models/${modelName}?dry_run=true`, GLOBEX_KEY).expect(200)).body as ModelDeletionResponseDto;
    expect(dryRun).toMatchObject({ dry_run: true, deleted: { name: modelName, versions: ['1'] } });
    await api('get', `/api/v1/ml/registry/models/${modelName}`, GLOBEX_KEY).expect(200);
    const deleted = (await api('delete', `/api/v1/ml/registry/models/${modelName}`, GLOBEX_KEY).expect(200)).body as ModelDeletionResponseDto;
    expect(deleted).toMatchObject({ dry_run: false, deleted: { name: modelName, versions: ['1'] } });
    await api('get', `/api/v1/ml/registry/models/${modelName}`, GLOBEX_KEY).expect(404);
    await api('get', `/api/v1/ml/registry/models/${modelName}`).expect(200);
  });

  describe('traversal attempts', () => {
    // Raw query strings as a client would send them; Express decodes them once.
    const ATTEMPTS = ['..%2F..%2Fetc%2Fpasswd', 'a/../../b', '..%5C..%5Cx', '%2Fetc%2Fpasswd', 'file%3A%2F%2F%2Fetc%2Fpasswd', '%2e%2e%2Fx', '%252e%252e%2Fx', 'x%00'];

    it.each(ATTEMPTS)('the AI Service refuses path=%s with 400 naming path', async (rawPath) => {
      for (const endpoint of ['artifacts', 'artifacts/content']) {
        const response = await api('get', `/api/v1/ml/tracking/runs/${jobs.strong!.mlflow_run_id}/${endpoint}?path=${rawPath}`).expect(400);
        expect((response.body as { errors: { field: string }[] }).errors.map((error) => error.field)).toEqual(['path']);
      }
    });

    it.each(ATTEMPTS)('the ML Service refuses path=%s on its own too (defence in depth)', async (rawPath) => {
      const response = await fetch(`${mlServiceUrl()}/api/v1/tracking/runs/${jobs.strong!.mlflow_run_id}/artifacts/content?path=${rawPath}`, {
        headers: { 'X-Tenant-ID': 'acme-corp', 'X-Request-ID': 'e2e-traversal', Authorization: `Bearer ${process.env.ML_SERVICE_TOKEN ?? ''}` },
      });
      expect([400, 404, 422]).toContain(response.status);
      expect(await response.text()).not.toContain('root:');
    });

    it('refuses ids that try to leave their place', async () => {
      await api('get', '/api/v1/ml/tracking/runs/..%2F..%2Fetc').expect(400);
      await api('get', '/api/v1/ml/tracking/experiments/..%2F1').expect(400);
      await api('get', '/api/v1/ml/registry/models/..%2Fglobex.churn').expect(400);
      await api('get', '/api/v1/ml/tracking/models/..%2Fm-1').expect(400);
    });
  });
});
