import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsIn, IsInt, IsObject, IsOptional, IsString, Matches, MaxLength, Min, ValidateNested } from 'class-validator';
import { MODEL_ID_PATTERN } from '@app/ml/serving/dto/serving-requests.dto';
import { FieldErrorDto } from '@app/common/filters/error-response.dto';

/** The tensor datatypes of the Open Inference Protocol (KServe v2, "Tensor Data Types"). */
export const V2_DATATYPES = ['BOOL', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP16', 'FP32', 'FP64', 'BYTES'] as const;
/** As many rows as predict takes (the ML Service's limit). */
const MAX_ROWS = 10_000;

export class V2ModelParamDto {
  @ApiProperty({ example: 'churn', description: 'The v2 model name: a deployment id (`model_id`).' })
  @Matches(MODEL_ID_PATTERN, { message: 'name must be a deployment id: 1 to 63 lower-case letters, digits, _ or -' })
  name!: string;
}

export class V2ModelVersionParamDto extends V2ModelParamDto {
  @ApiProperty({ example: '1', description: 'A registry version the deployment serves.' })
  @Matches(/^[0-9]{1,9}$/, { message: 'version must be a registry version number' })
  version!: string;
}

export class V2InferInputDto {
  @ApiProperty({ example: 'tenure', description: 'A feature of the model: one input per feature.' })
  @IsString()
  @MaxLength(1024)
  name!: string;

  @ApiProperty({ example: [2], type: [Number], description: '`[rows]` or `[rows, 1]`.' })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(2)
  @IsInt({ each: true })
  @Min(0, { each: true })
  shape!: number[];

  @ApiProperty({ enum: V2_DATATYPES, example: 'FP64', description: 'BYTES for text features; any numeric type for numbers; BOOL (or an integer 0/1) for booleans.' })
  @IsIn(V2_DATATYPES)
  datatype!: string;

  @ApiProperty({ example: [3, 48], type: 'array', items: {}, description: 'The values, row-major, flat.' })
  @IsArray()
  @ArrayMaxSize(MAX_ROWS)
  data!: unknown[];

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: "Sent by clients (e.g. tritonclient's); ignored." })
  @IsOptional()
  @IsObject()
  parameters?: Record<string, unknown>;
}

export class V2RequestedOutputDto {
  @ApiProperty({ example: 'score', description: '`class`, `score` (classification) or `value` (regression), and `prediction_id`.' })
  @IsString()
  @MaxLength(64)
  name!: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: 'Ignored: outputs are always JSON.' })
  @IsOptional()
  @IsObject()
  parameters?: Record<string, unknown>;
}

export class V2InferRequestDto {
  @ApiPropertyOptional({ example: 'r-1', description: 'Echoed in the answer; also pins the A/B variant, as X-Request-Key does.' })
  @IsOptional()
  @IsString()
  @MaxLength(256)
  id?: string;

  @ApiProperty({ type: [V2InferInputDto] })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(1024)
  @ValidateNested({ each: true })
  @Type(() => V2InferInputDto)
  inputs!: V2InferInputDto[];

  @ApiPropertyOptional({ type: [V2RequestedOutputDto], description: 'The outputs to return; all when absent.' })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(16)
  @ValidateNested({ each: true })
  @Type(() => V2RequestedOutputDto)
  outputs?: V2RequestedOutputDto[];

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: "Sent by clients (e.g. tritonclient's binary_data_output); ignored: answers are JSON." })
  @IsOptional()
  @IsObject()
  parameters?: Record<string, unknown>;
}

export class V2TensorMetadataDto {
  @ApiProperty({ example: 'tenure' })
  name!: string;

  @ApiProperty({ enum: V2_DATATYPES, example: 'FP64' })
  datatype!: string;

  @ApiProperty({ example: [-1], type: [Number] })
  shape!: number[];
}

export class V2ServerMetadataDto {
  @ApiProperty({ example: 'ml-service' })
  name!: string;

  @ApiProperty({ example: '0.1.0' })
  version!: string;

  @ApiProperty({ type: [String], example: [] })
  extensions!: string[];
}

export class V2ServerLivenessDto {
  @ApiProperty({ example: true })
  live!: boolean;
}

export class V2ServerReadinessDto {
  @ApiProperty({ example: true })
  ready!: boolean;
}

export class V2ModelMetadataDto {
  @ApiProperty({ example: 'churn' })
  name!: string;

  @ApiProperty({ type: [String], example: ['1'], description: 'The versions the deployment serves.' })
  versions!: string[];

  @ApiProperty({ example: 'mlflow_pyfunc' })
  platform!: string;

  @ApiProperty({ type: [V2TensorMetadataDto], description: 'One per feature, with the datatype of its signature type.' })
  inputs!: V2TensorMetadataDto[];

  @ApiProperty({ type: [V2TensorMetadataDto], description: '`class` (its datatype that of the trained target values) and `score`, or `value`; and `prediction_id`.' })
  outputs!: V2TensorMetadataDto[];
}

export class V2ModelReadinessDto {
  @ApiProperty({ example: 'churn' })
  name!: string;

  @ApiProperty({ example: true })
  ready!: boolean;
}

export class V2InferOutputDto {
  @ApiProperty({ example: 'score' })
  name!: string;

  @ApiProperty({ example: [2], type: [Number] })
  shape!: number[];

  @ApiProperty({ enum: V2_DATATYPES, example: 'FP64' })
  datatype!: string;

  @ApiProperty({ example: [0.81, 0.67], type: 'array', items: {} })
  data!: unknown[];
}

export class V2InferResponseDto {
  @ApiProperty({ example: 'churn' })
  model_name!: string;

  @ApiProperty({ example: '1', description: 'The version that answered.' })
  model_version!: string;

  @ApiPropertyOptional({ example: 'r-1' })
  id?: string | null;

  @ApiProperty({ type: [V2InferOutputDto] })
  outputs!: V2InferOutputDto[];
}

export class V2ErrorResponseDto {
  @ApiProperty({ example: 'deployment churn does not exist', description: 'One sentence (the protocol names this field `error`).' })
  error!: string;

  @ApiPropertyOptional({
    type: [FieldErrorDto],
    example: [{ field: 'inputs.0.datatype', message: 'tenure is double: one of FP16, FP32, FP64, INT16, ...' }],
    description: 'Present for validation errors only.',
  })
  errors?: FieldErrorDto[];

  @ApiProperty({ example: '7f1c7a0e-1b1e-4f54-9a7c-3f0b1f5e2d11', description: 'Finds the request in both services\' logs.' })
  request_id!: string;
}
