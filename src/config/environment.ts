import { plainToInstance, Transform } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsNotEmpty,
  IsNumber,
  IsPositive,
  IsString,
  IsUrl,
  Matches,
  Max,
  Min,
  validateSync,
  ValidateIf,
  ValidationError,
} from 'class-validator';

const BOOLEAN_WORDS: Record<string, boolean> = { true: true, false: false, '1': true, '0': false };

/**
 * Booleans accept exactly true/false/1/0: "yes" or "off" stay strings, so the validator rejects
 * them by name instead of silently reading them as false.
 */
const ParseBoolean = (): PropertyDecorator =>
  Transform(({ value }: { value: unknown }) => {
    if (typeof value !== 'string') {
      return value;
    }
    const word = value.trim().toLowerCase();
    return word in BOOLEAN_WORDS ? BOOLEAN_WORDS[word] : value;
  });

/** Numbers are parsed strictly: "30s" or "" must fail, where Number.parseInt would accept "30s". */
const ParseNumber = (): PropertyDecorator =>
  Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(value) ? Number(value) : value,
  );

const API_KEY_ENTRY = /^[^:,\s]+:[a-z0-9][a-z0-9_-]{0,62}$/;

/**
 * Every environment variable the AI Service reads, with the seed's names and defaults.
 * Validated once at start-up; a bad value stops the process with a message naming the variable.
 */
export class Environment {
  @ParseBoolean()
  @IsIn([true, false], { message: 'MODULE_ML_ENABLED must be one of true, false, 1, 0' })
  MODULE_ML_ENABLED: boolean = true;

  @IsUrl(
    { require_tld: false, require_protocol: true, protocols: ['http', 'https'] },
    { message: 'ML_SERVICE_URL must be an http(s) URL such as http://127.0.0.1:8000' },
  )
  ML_SERVICE_URL: string = 'http://ml-service:8000';

  /**
   * The ML Service's shared secret (its MLS_SERVICE_TOKEN), sent as `Authorization: Bearer` on every
   * call; without it the ML Service answers 401. scripts/stack-env.sh makes one under data/.
   */
  @ValidateIf((environment: Environment) => environment.ML_SERVICE_TOKEN !== '')
  @Matches(/^\S{16,}$/, { message: 'ML_SERVICE_TOKEN must be at least 16 characters without spaces' })
  ML_SERVICE_TOKEN: string = '';

  /** Seconds, per attempt. */
  @ParseNumber()
  @Min(1, { message: 'ML_SERVICE_TIMEOUT must be a number of seconds between 1 and 3600' })
  @Max(3600, { message: 'ML_SERVICE_TIMEOUT must be a number of seconds between 1 and 3600' })
  ML_SERVICE_TIMEOUT: number = 30;

  /** Attempts in total (1 = no retry). */
  @ParseNumber()
  @IsInt({ message: 'ML_SERVICE_RETRIES must be an integer between 1 and 10' })
  @Min(1, { message: 'ML_SERVICE_RETRIES must be an integer between 1 and 10' })
  @Max(10, { message: 'ML_SERVICE_RETRIES must be an integer between 1 and 10' })
  ML_SERVICE_RETRIES: number = 3;

  /** Predictions one tenant may have in flight to the ML Service at once; more are refused at once with 503 and Retry-After (MlModuleOptions.predictMaxInFlight). */
  @ParseNumber()
  @IsInt({ message: 'ML_PREDICT_MAX_IN_FLIGHT must be an integer between 1 and 1024' })
  @Min(1, { message: 'ML_PREDICT_MAX_IN_FLIGHT must be an integer between 1 and 1024' })
  @Max(1024, { message: 'ML_PREDICT_MAX_IN_FLIGHT must be an integer between 1 and 1024' })
  ML_PREDICT_MAX_IN_FLIGHT: number = 32;

  /** Send a deployment's predictions straight to its Ray Serve replicas when it allows (MlModuleOptions.predictDirect). */
  @ParseBoolean()
  @IsIn([true, false], { message: 'ML_PREDICT_DIRECT must be one of true, false, 1, 0' })
  ML_PREDICT_DIRECT: boolean = true;

  /** GB: larger uploads are refused while they arrive (the ML Service has its own limit for what a job loads, MLS_MAX_DATASET_SIZE_GB). */
  @ParseNumber()
  @IsNumber({ allowNaN: false, allowInfinity: false }, { message: 'ML_MAX_DATASET_SIZE_GB must be a number of GB greater than 0' })
  @IsPositive({ message: 'ML_MAX_DATASET_SIZE_GB must be a number of GB greater than 0' })
  ML_MAX_DATASET_SIZE_GB: number = 10;

  /** An OpenAI-compatible endpoint (…/v1) whose model plans chat's tool calls; empty: chat's embedded understanding only. */
  @ValidateIf((environment: Environment) => environment.LLM_BASE_URL !== '')
  @IsUrl({ require_tld: false, require_protocol: true, protocols: ['http', 'https'] }, { message: 'LLM_BASE_URL must be an http(s) URL such as http://127.0.0.1:11434/v1' })
  LLM_BASE_URL: string = '';

  /** The model to ask at LLM_BASE_URL; required with it. */
  @ValidateIf((environment: Environment) => environment.LLM_BASE_URL !== '')
  @IsString()
  @IsNotEmpty({ message: 'LLM_MODEL must name the model when LLM_BASE_URL is set' })
  LLM_MODEL: string = '';

  /** Sent as `Authorization: Bearer` to LLM_BASE_URL; empty: no header. */
  @IsString()
  LLM_API_KEY: string = '';

  /** Seconds chat waits for the model before it answers with its embedded understanding. */
  @ParseNumber()
  @Min(1, { message: 'LLM_TIMEOUT must be a number of seconds between 1 and 600' })
  @Max(600, { message: 'LLM_TIMEOUT must be a number of seconds between 1 and 600' })
  LLM_TIMEOUT: number = 20;

  @ParseNumber()
  @IsInt({ message: 'PORT must be an integer between 0 and 65535' })
  @Min(0, { message: 'PORT must be an integer between 0 and 65535' })
  @Max(65535, { message: 'PORT must be an integer between 0 and 65535' })
  PORT: number = 3000;

  @IsString()
  @IsNotEmpty({ message: 'HOST must not be empty' })
  HOST: string = '127.0.0.1';

  /** `text`: Nest's console lines for a person; `json`: one JSON object per line for a log collector. */
  @IsIn(['text', 'json'], { message: 'LOG_FORMAT must be one of text, json' })
  LOG_FORMAT: 'text' | 'json' = 'text';

  /** `key:tenant` pairs separated by commas, e.g. `dev-acme-key:acme-corp,dev-globex-key:globex`. */
  @Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' ? value.split(',').map((entry) => entry.trim()).filter(Boolean) : value,
  )
  @Matches(API_KEY_ENTRY, {
    each: true,
    message: 'API_KEYS must be a comma-separated list of key:tenant pairs (tenant: lowercase letters, digits, - and _)',
  })
  API_KEYS: string[] = ['dev-acme-key:acme-corp'];
}

function describeError(error: ValidationError, raw: Record<string, unknown>): string {
  const messages = Object.values(error.constraints ?? {});
  const given = raw[error.property];
  // Secrets never reach the log: API_KEYS is reported without its value.
  const unquoted = error.property === 'API_KEYS' || error.property === 'ML_SERVICE_TOKEN' || error.property === 'LLM_API_KEY';
  const shown = unquoted || given === undefined ? '' : ` (got ${JSON.stringify(given)})`;
  return `${messages[0] ?? `${error.property} is invalid`}${shown}`;
}

/**
 * Parses and validates raw environment variables. Unset or empty variables take their default.
 * Throws one Error listing every bad variable by name.
 */
export function validateEnvironment(raw: Record<string, unknown>): Environment {
  const present = Object.fromEntries(
    Object.keys(new Environment())
      .filter((name) => raw[name] !== undefined && raw[name] !== '')
      .map((name) => [name, raw[name]]),
  );
  const environment = plainToInstance(Environment, present);
  const errors = validateSync(environment, { skipMissingProperties: false });
  if (errors.length > 0) {
    const lines = errors.map((error) => `  - ${describeError(error, raw)}`);
    throw new Error(`Invalid configuration:\n${lines.join('\n')}`);
  }
  return environment;
}

/** The one place the AI Service reads process.env. */
export function readEnvironment(): Environment {
  return validateEnvironment(process.env);
}

/** Used by the standalone AppModule to decide whether MlModule is registered at all. */
export function isMlModuleEnabled(env: Record<string, unknown>): boolean {
  return validateEnvironment(env).MODULE_ML_ENABLED;
}
