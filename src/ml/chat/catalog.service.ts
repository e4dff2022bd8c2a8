import { Injectable, Logger } from '@nestjs/common';
import type { TenantContext } from '@app/common/tenant/tenant-context';
import type { Catalog } from '@app/ml/chat/chat-types';
import { ToolRegistry } from '@app/ml/tools/tool-registry';

/** How many of the newest training jobs the names of a message are matched against. */
const RECENT_JOBS = 50;

/**
 * Reads what the tenant has (tables and columns, registered models and their metrics, deployments,
 * recent jobs and sweeps, feature sets, the algorithm catalog) through the tool registry's read
 * tools, with the caller's tenant, for one message. A read that fails leaves its part empty: chat
 * then asks rather than fails (a listing's outage must not make "train a model" a 5xx).
 */
@Injectable()
export class CatalogService {
  private readonly logger = new Logger(CatalogService.name);

  constructor(private readonly registry: ToolRegistry) {}

  async read(caller: TenantContext): Promise<Catalog> {
    const [tables, models, deployments, jobs, sweeps, featureSets, algorithms] = await Promise.all([
      this.call<{ tables: Catalog['tables'] }>('DatasetsController_listDatasets', {}, caller),
      this.call<{ models: { name: string; production_version: string | null; versions: Catalog['models'][number]['versions'] }[] }>('RegistryController_searchRegisteredModels', {}, caller),
      this.call<{ deployments: { model_id: string; model_name: string; status: string; task_type: string; variants: { version: string }[] }[] }>('ServingController_listDeployments', {}, caller),
      this.call<{ jobs: Catalog['jobs'] }>('TrainingController_listTrainingJobs', { limit: RECENT_JOBS }, caller),
      this.call<{ sweeps: Catalog['sweeps'] }>('TuningController_listTuningSweeps', {}, caller),
      this.call<{ feature_sets: { name: string }[] }>('FeaturesController_listFeatureSets', {}, caller),
      this.call<{ algorithms: { name: string; hyperparameters: { name: string }[] }[] }>('TrainingController_listTrainingAlgorithms', {}, caller),
    ]);
    return {
      tables: (tables?.tables ?? []).map(({ qualified_name, name, columns }) => ({ qualified_name, name, columns: columns.map(({ name: column, type }) => ({ name: column, type })) })),
      models: (models?.models ?? []).map(({ name, production_version, versions }) => ({
        name,
        production_version,
        versions: versions.map(({ version, stage, job_id, metrics }) => ({ version, stage, job_id, metrics })),
      })),
      deployments: (deployments?.deployments ?? []).map(({ model_id, model_name, status, task_type, variants }) => ({ model_id, model_name, status, task_type, versions: variants.map((variant) => variant.version) })),
      jobs: (jobs?.jobs ?? []).map(({ job_id, name, algorithm, task_type, status, metrics, registered_version }) => ({ job_id, name, algorithm, task_type, status, metrics, registered_version })),
      sweeps: (sweeps?.sweeps ?? []).map(({ sweep_id, name, status }) => ({ sweep_id, name, status })),
      feature_sets: (featureSets?.feature_sets ?? []).map((set) => set.name),
      algorithms: Object.fromEntries((algorithms?.algorithms ?? []).map((algorithm) => [algorithm.name, algorithm.hyperparameters.map((parameter) => parameter.name)])),
    };
  }

  private async call<T>(name: string, args: Record<string, unknown>, caller: TenantContext): Promise<T | undefined> {
    const tool = this.registry.get(name);
    if (tool === undefined) {
      throw new Error(`the tool registry has no ${name}`);
    }
    try {
      return (await tool.run(await tool.prepare(args, caller), caller)) as T;
    } catch (error) {
      this.logger.warn(`catalog read ${name} failed request_id=${caller.requestId}: ${error instanceof Error ? error.message : String(error)}`);
      return undefined;
    }
  }
}
