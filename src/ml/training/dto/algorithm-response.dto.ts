import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

const PARAMETER_TYPES = ['integer', 'number', 'string', 'boolean', 'integer_list'] as const;

export class HyperparameterResponseDto {
  @ApiProperty({ example: 'max_depth' })
  name!: string;

  @ApiProperty({ enum: PARAMETER_TYPES, example: 'integer' })
  type!: (typeof PARAMETER_TYPES)[number];

  @ApiPropertyOptional({ type: Number, nullable: true, example: 1, description: 'Smallest accepted value (see exclusive_minimum).' })
  minimum!: number | null;

  @ApiPropertyOptional({ type: Number, nullable: true, example: 20, description: 'Largest accepted value.' })
  maximum!: number | null;

  @ApiProperty({ example: false, description: 'True when the value must be strictly greater than `minimum`.' })
  exclusive_minimum!: boolean;

  @ApiPropertyOptional({ type: 'array', items: {}, nullable: true, description: 'The only accepted values, when the parameter is a choice.' })
  choices!: unknown[] | null;

  @ApiProperty({
    // Of the parameter's `type`: a number, a string, a boolean, a list of integers, or null.
    oneOf: [{ type: 'number' }, { type: 'string' }, { type: 'boolean' }, { type: 'array', items: { type: 'integer' } }],
    nullable: true,
    example: 6,
    description: 'Used when the request does not set it; of the parameter\'s `type`, or null (not used).',
  })
  default!: unknown;

  @ApiProperty({ example: 'maximum depth of a tree' })
  description!: string;

  @ApiPropertyOptional({ type: Number, nullable: true, example: null, description: 'integer_list: fewest items allowed.' })
  min_items!: number | null;

  @ApiPropertyOptional({ type: Number, nullable: true, example: null, description: 'integer_list: most items allowed.' })
  max_items!: number | null;

  @ApiProperty({ example: false, description: 'True when null is accepted (and means: not used).' })
  nullable!: boolean;
}

export class AlgorithmResponseDto {
  @ApiProperty({ example: 'xgboost', description: 'The `algorithm` of a training request.' })
  name!: string;

  @ApiProperty({ example: ['classification', 'regression'], description: 'The `task_type` values it trains.' })
  task_types!: string[];

  @ApiProperty({ example: 'XGBoost + Ray Train' })
  framework!: string;

  @ApiProperty({ type: [HyperparameterResponseDto], description: 'What `hyperparameters` may set; anything else is refused with 422.' })
  hyperparameters!: HyperparameterResponseDto[];
}

export class AlgorithmListResponseDto {
  @ApiProperty({ type: [AlgorithmResponseDto] })
  algorithms!: AlgorithmResponseDto[];
}
