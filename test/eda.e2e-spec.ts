import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import type { App } from 'supertest/types';
import type { ProfileListResponseDto, ProfileResponseDto } from '@app/ml/eda/dto/profile-response.dto';
import type { JobResponseDto } from '@app/ml/jobs/dto/job-response.dto';
import { ACME_KEY, GLOBEX_KEY, mlServiceUrl, startAiService } from '@test/support/ai-service';

describe('profiling the demo churn table through the AI Service and the real ML Service', () => {
  let app: INestApplication<App>;

  beforeAll(async () => {
    app = await startAiService({ MODULE_ML_ENABLED: 'true', ML_SERVICE_URL: mlServiceUrl() });
  });

  afterAll(async () => {
    await app.close();
  });

  function api(): ReturnType<typeof request> {
    return request(app.getHttpServer());
  }

  it('profiles, stores and lists for the caller only', async () => {
    const created = await api()
      .post('/api/v1/ml/eda/profiles')
      .set('X-API-Key', ACME_KEY)
      .send({ dataset: { source: 'sql', query: 'SELECT * FROM ml_features.customer_churn' }, target_column: 'churned' })
      .expect(201);
    const profile = created.body as ProfileResponseDto;
    expect(profile.table.rows).toBe(5000);
    expect(profile.alerts).toContainEqual(expect.objectContaining({ type: 'IDENTIFIER', columns: ['customer_id'] }));
    expect(profile.target?.column).toBe('churned');

    const read = await api().get(`/api/v1/ml/eda/profiles/${profile.profile_id}`).set('X-API-Key', ACME_KEY).expect(200);
    expect(read.body).toEqual(profile);
    const listed = (await api().get('/api/v1/ml/eda/profiles').set('X-API-Key', ACME_KEY).expect(200)).body as ProfileListResponseDto;
    expect(listed.profiles.map((entry) => entry.profile_id)).toContain(profile.profile_id);

    const png = await api().get(`/api/v1/ml/eda/profiles/${profile.profile_id}/charts/histogram_tenure`).set('X-API-Key', ACME_KEY).set('Accept', 'image/png').expect(200);
    expect(png.headers['content-type']).toBe('image/png');
    const report = await api().get(`/api/v1/ml/eda/profiles/${profile.profile_id}/report`).set('X-API-Key', ACME_KEY).expect(200);
    expect(report.headers['content-type']).toMatch(/^text\/html/);
    expect(report.text).toContain('data:image/png;base64,');

    await api().get(`/api/v1/ml/eda/profiles/${profile.profile_id}`).set('X-API-Key', GLOBEX_KEY).expect(404);
    const theirs = (await api().get('/api/v1/ml/eda/profiles').set('X-API-Key', GLOBEX_KEY).expect(200)).body as ProfileListResponseDto;
    expect(theirs.profiles).toEqual([]);
  });

  it('passes the ML Service refusal through naming the field', async () => {
    const refused = await api()
      .post('/api/v1/ml/eda/profiles')
      .set('X-API-Key', ACME_KEY)
      .send({ dataset: { source: 'table', table: 'ml_features.customer_churn' }, target_column: 'nope' })
      .expect(422);
    expect((refused.body as { errors: { field: string }[] }).errors[0].field).toBe('target_column');
  });

  it('runs a profile asked for with Prefer: respond-async as a job, and its result is the stored profile', async () => {
    const accepted = await api()
      .post('/api/v1/ml/eda/profiles')
      .set('X-API-Key', ACME_KEY)
      .set('Prefer', 'respond-async')
      .send({ dataset: { source: 'table', table: 'ml_features.customer_churn' } })
      .expect(202);
    const job = accepted.body as JobResponseDto;
    expect(job.kind).toBe('profiling');
    expect(accepted.headers.location).toBe(`/api/v1/ml/jobs/${job.job_id}`);
    await api().get(accepted.headers.location).set('X-API-Key', GLOBEX_KEY).expect(404);

    let current = job;
    for (const deadline = Date.now() + 60_000; !['completed', 'failed', 'cancelled'].includes(current.status); ) {
      expect(Date.now()).toBeLessThan(deadline);
      await new Promise((resolve) => setTimeout(resolve, 250));
      current = (await api().get(accepted.headers.location).set('X-API-Key', ACME_KEY).expect(200)).body as JobResponseDto;
    }
    expect(current.status).toBe('completed');
    expect(current.progress).toEqual({ stage: 'done', stages_done: 7, stages_total: 7 });
    const profile = (await api().get(`/api/v1/ml/eda/profiles/${String(current.result?.profile_id)}`).set('X-API-Key', ACME_KEY).expect(200)).body as ProfileResponseDto;
    expect(profile.table.rows).toBe(5000);
    // An ended job cannot be cancelled.
    await api().delete(accepted.headers.location).set('X-API-Key', ACME_KEY).expect(409);
  });
});
