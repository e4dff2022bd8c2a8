import type { SearchSpaceDomain, TuningSubmission, TuningSweepStatus, TuningTrial } from '@app/ml/client/ml-service.types';

type Defined<T> = Exclude<T, null | undefined>;

/** `satisfies` ties each list to the generated ML Service types: a renamed value fails the build here. */
export const SEARCH_ALGORITHMS = ['random', 'grid', 'tpe', 'gp'] as const satisfies readonly Defined<TuningSubmission['search']>[];
export const SCHEDULERS = ['fifo', 'asha', 'hyperband', 'median_stopping', 'pbt'] as const satisfies readonly Defined<
  Defined<TuningSubmission['scheduler']>['type']
>[];
export const TUNING_METRICS = ['log_loss', 'auc_roc', 'rmse', 'mae', 'mape'] as const satisfies readonly Defined<TuningSubmission['metric']>[];
export const TUNING_MODES = ['min', 'max'] as const satisfies readonly Defined<TuningSubmission['mode']>[];
export const SWEEP_STATUSES = ['queued', 'running', 'completed', 'failed', 'cancelled'] as const satisfies readonly TuningSweepStatus[];
export const TRIAL_STATUSES = ['pending', 'running', 'completed', 'stopped_early', 'failed'] as const satisfies readonly TuningTrial['status'][];
export const SPACE_TYPES = ['choice', 'grid', 'uniform', 'loguniform', 'randint', 'quniform', 'qloguniform'] as const satisfies readonly SearchSpaceDomain['type'][];
