import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

export class FieldErrorDto {
  @ApiProperty({ example: 'target_column' })
  field!: string;

  @ApiProperty({ example: 'column "churn" does not exist in the dataset' })
  message!: string;
}

/** The one error shape of the AI Service. */
export class ErrorResponseDto {
  @ApiProperty({ example: 'target_column: column "churn" does not exist in the dataset' })
  message!: string;

  @ApiPropertyOptional({ type: [FieldErrorDto], description: 'Present for validation errors only.' })
  errors?: FieldErrorDto[];

  @ApiProperty({ example: '6f1c2a0e-4a39-4a55-9d55-0b7f0a8c1d2e' })
  request_id!: string;
}
