import type { FieldError } from '@app/common/filters/field-errors.exception';
import type { AlgorithmSpec, ColumnInfo, DatasetSchema, HyperparameterSpec, TaskType } from '@app/ml/client/ml-service.types';
import type { CreateTrainingJobDto } from '@app/ml/training/dto/create-training-job.dto';

/**
 * A numeric target with more distinct values than this is treated as continuous: it cannot be a
 * class label. 50 leaves room for integer-coded multi-class targets.
 */
export const MAX_CLASSES = 50;

/**
 * Seed 001 step 2: the configuration checked against the dataset's schema and the algorithm
 * catalog before anything is submitted. Returns every problem, each naming its field.
 */
export function findSchemaContextErrors(
  config: CreateTrainingJobDto,
  schema: DatasetSchema,
  catalog: AlgorithmSpec[],
): FieldError[] {
  const errors: FieldError[] = [];
  const columns = new Map(schema.columns.map((column) => [column.name, column]));

  const algorithm = catalog.find((spec) => spec.name === config.algorithm);
  if (algorithm === undefined) {
    const available = catalog.map((spec) => spec.name).join(', ');
    errors.push({ field: 'algorithm', message: `algorithm "${config.algorithm}" is not available in the ML Service; available: ${available}` });
  } else {
    if (supportedTaskType(algorithm, config.task_type) === undefined) {
      errors.push({
        field: 'task_type',
        message: `${config.algorithm} does not support ${config.task_type}; it supports ${algorithm.task_types.join(', ')}`,
      });
    }
    errors.push(...findHyperparameterErrors(config.hyperparameters, algorithm));
  }

  const target = columns.get(config.target_column);
  if (target === undefined) {
    errors.push({ field: 'target_column', message: `column "${config.target_column}" does not exist in the dataset` });
  } else {
    const unfit = whyTargetUnfit(target, config.task_type);
    if (unfit !== null) {
      errors.push({ field: 'target_column', message: unfit });
    }
  }

  (config.feature_columns ?? []).forEach((name, index) => {
    const field = `feature_columns[${index}]`;
    if (!columns.has(name)) {
      errors.push({ field, message: `column "${name}" does not exist in the dataset` });
    } else if (name === config.target_column) {
      errors.push({ field, message: `column "${name}" is the target_column and cannot also be a feature` });
    }
  });

  if (config.split.strategy === 'stratified' && config.task_type !== 'classification') {
    errors.push({ field: 'split.strategy', message: `stratified splits need a classification task, not ${config.task_type}` });
  }
  errors.push(...findForecastingErrors(config, columns));
  return errors;
}

const FORECASTING_FIELDS = ['time_column', 'horizon', 'frequency'] as const;

/** time_column, horizon and frequency: required for forecasting, refused for the other task types. */
function findForecastingErrors(config: CreateTrainingJobDto, columns: Map<string, ColumnInfo>): FieldError[] {
  if (config.task_type !== 'forecasting') {
    return FORECASTING_FIELDS.filter((field) => config[field] !== undefined).map((field) => ({
      field,
      message: `${field} is for forecasting only, not ${config.task_type}`,
    }));
  }
  const errors: FieldError[] = FORECASTING_FIELDS.filter((field) => config[field] === undefined).map((field) => ({
    field,
    message: `${field} is required for forecasting`,
  }));
  if (config.feature_columns !== undefined) {
    errors.push({ field: 'feature_columns', message: 'forecasting models target_column over time_column alone; leave feature_columns out' });
  }
  if (config.time_column !== undefined) {
    const time = columns.get(config.time_column);
    if (time === undefined) {
      errors.push({ field: 'time_column', message: `column "${config.time_column}" does not exist in the dataset` });
    } else if (time.kind !== 'datetime') {
      errors.push({ field: 'time_column', message: `column "${time.name}" is ${time.kind}; forecasting needs a date or timestamp column` });
    }
  }
  return errors;
}

/** The catalog's own value for the task type, typed as the ML Service's; undefined when unsupported. */
export function supportedTaskType(algorithm: AlgorithmSpec, taskType: string): TaskType | undefined {
  return algorithm.task_types.find((supported) => supported === taskType);
}

function whyTargetUnfit(target: ColumnInfo, taskType: CreateTrainingJobDto['task_type']): string | null {
  switch (taskType) {
    case 'classification':
      if (target.kind === 'numeric' && target.distinct_count > MAX_CLASSES) {
        return `column "${target.name}" is continuous (${target.kind}, ${target.distinct_count} distinct values); classification needs a label with at most ${MAX_CLASSES} classes — use task_type regression`;
      }
      if (target.kind === 'datetime' || target.kind === 'text') {
        return `column "${target.name}" is ${target.kind}; classification needs a categorical, boolean or integer-coded label`;
      }
      return target.distinct_count < 2 ? `column "${target.name}" has a single value; classification needs at least 2 classes` : null;
    case 'regression':
    case 'forecasting':
      return target.kind === 'numeric' ? null : `column "${target.name}" is ${target.kind}; ${taskType} needs a numeric target`;
  }
}

function findHyperparameterErrors(hyperparameters: Record<string, unknown>, algorithm: AlgorithmSpec): FieldError[] {
  const specs = new Map(algorithm.hyperparameters.map((spec) => [spec.name, spec]));
  return Object.entries(hyperparameters).flatMap(([name, value]) => {
    const field = `hyperparameters.${name}`;
    const spec = specs.get(name);
    if (spec === undefined) {
      const known = [...specs.keys()].join(', ');
      return [{ field, message: `${algorithm.name} has no hyperparameter "${name}"; known: ${known}` }];
    }
    const problem = whyValueInvalid(value, spec);
    return problem === null ? [] : [{ field, message: problem }];
  });
}

/** A list of integers (hidden layer sizes, an ARIMA order); minimum/maximum bound each item. */
function whyListInvalid(value: unknown, spec: HyperparameterSpec): string | null {
  if (!Array.isArray(value)) {
    return spec.nullable === true ? 'must be a list of integers or null' : 'must be a list of integers';
  }
  const minItems = spec.min_items ?? null;
  const maxItems = spec.max_items ?? null;
  if (minItems !== null && value.length < minItems) {
    return `must have at least ${minItems} items`;
  }
  if (maxItems !== null && value.length > maxItems) {
    return `must have at most ${maxItems} items`;
  }
  for (const [index, item] of value.entries()) {
    if (typeof item !== 'number' || !Number.isInteger(item)) {
      return `item ${index} must be an integer`;
    }
    const problem = whyOutOfRange(item, spec);
    if (problem !== null) {
      return `item ${index} ${problem}`;
    }
  }
  return null;
}

function whyValueInvalid(value: unknown, spec: HyperparameterSpec): string | null {
  if (value === null && spec.nullable === true) {
    return null;
  }
  const choices = spec.choices ?? null;
  if (choices !== null && choices.length > 0) {
    return (choices).includes(value) ? null : `must be one of ${choices.map((choice) => JSON.stringify(choice)).join(', ')}`;
  }
  switch (spec.type) {
    case 'integer':
      if (typeof value !== 'number' || !Number.isInteger(value)) {
        return 'must be an integer';
      }
      return whyOutOfRange(value, spec);
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        return 'must be a number';
      }
      return whyOutOfRange(value, spec);
    case 'integer_list':
      return whyListInvalid(value, spec);
    case 'boolean':
      return typeof value === 'boolean' ? null : 'must be true or false';
    case 'string':
      return typeof value === 'string' ? null : 'must be a string';
  }
}

function whyOutOfRange(value: number, spec: HyperparameterSpec): string | null {
  const minimum = spec.minimum ?? null;
  const maximum = spec.maximum ?? null;
  if (minimum !== null && (spec.exclusive_minimum === true ? value <= minimum : value < minimum)) {
    return `must be ${spec.exclusive_minimum === true ? 'greater than' : 'at least'} ${minimum}${maximum !== null ? ` and at most ${maximum}` : ''}, got ${value}`;
  }
  if (maximum !== null && value > maximum) {
    return `must be at most ${maximum}${minimum !== null ? ` and ${spec.exclusive_minimum === true ? 'greater than' : 'at least'} ${minimum}` : ''}, got ${value}`;
  }
  return null;
}
