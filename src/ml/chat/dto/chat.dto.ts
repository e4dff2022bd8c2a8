import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsBoolean, IsIn, IsOptional, IsString, Matches, MaxLength, MinLength, ValidateIf } from 'class-validator';
import { CHAT_AGENTS, type ChatAgent } from '@app/ml/chat/chat-types';

export const CHAT_MODES = ['act', 'plan'] as const;
export const TOOL_CALL_STATUSES = ['planned', 'needs_confirmation', 'done', 'failed', 'invalid', 'cancelled'] as const;

/** One message to the ML assistant, or the answer to its confirmation question. */
export class ChatRequestDto {
  @ApiPropertyOptional({ example: 'Train a model to predict customer churn', maxLength: 2000, description: 'What you want, in plain English. Optional only when the request carries `confirmation_id` and `confirm`.' })
  @ValidateIf((request: ChatRequestDto) => request.message !== undefined || request.confirmation_id === undefined)
  @IsString()
  @MinLength(1)
  @MaxLength(2000)
  message?: string;

  @ApiPropertyOptional({ example: 'conv-1b4e28ba-2fa1-11d2-883f-0016d3cca427', description: 'Continue this conversation (yours only); without it a new one starts.' })
  @IsOptional()
  @Matches(/^conv-[0-9a-f-]{36}$/, { message: 'conversation_id must be an id returned by this endpoint (conv-<uuid>)' })
  conversation_id?: string;

  @ApiPropertyOptional({ enum: CHAT_MODES, default: 'act', description: '`plan` answers the agent and the tool calls with their arguments, and carries nothing out.' })
  @IsOptional()
  @IsIn(CHAT_MODES)
  mode?: (typeof CHAT_MODES)[number];

  @ApiPropertyOptional({ example: 'confirm-3b0c4f6a-0e0b-4c1e-9f5e-4f7c6f1a2b3c', description: 'The confirmation id of the plan you answer (with `confirm`, or a message such as "yes").' })
  @IsOptional()
  @Matches(/^confirm-[0-9a-f-]{36}$/, { message: 'confirmation_id must be an id returned by this endpoint (confirm-<uuid>)' })
  confirmation_id?: string;

  @ApiPropertyOptional({ example: true, description: 'true carries out the plan of `confirmation_id`; false drops it.' })
  @IsOptional()
  @IsBoolean()
  confirm?: boolean;
}

/** A tool the assistant called or plans to call: a tool of the registry (and of MCP), with REST's field names. */
export class ChatToolCallDto {
  @ApiProperty({ example: 'TrainingController_submitTrainingJob', description: 'The tool name: the OpenAPI operation id (MCP tools/list names the same).' })
  tool!: string;

  @ApiProperty({ type: 'object', additionalProperties: true, example: { algorithm: 'xgboost', target_column: 'churned' }, description: "The call's arguments: path, query and body fields of the REST operation side by side." })
  arguments!: Record<string, unknown>;

  @ApiProperty({ enum: TOOL_CALL_STATUSES, description: '`planned` (plan mode), `needs_confirmation` (waits for a yes), `done`, `failed` (the service refused: see result), `invalid` (the arguments do not validate: see result), `cancelled` (the plan was declined).' })
  status!: (typeof TOOL_CALL_STATUSES)[number];

  @ApiPropertyOptional({ description: "The tool's answer when done (the REST response body), or {status, message, errors} when it failed." })
  result?: unknown;
}

export class ChatLinkDto {
  @ApiProperty({ example: 'Feature importance chart' })
  title!: string;

  @ApiProperty({ example: '/api/v1/ml/train/train-3f9a1c2b4d5e/charts/feature_importance', description: 'A path of this API (PNG or Vega-Lite JSON by Accept for charts).' })
  href!: string;
}

export class ChatResponseDto {
  @ApiProperty({ example: 'conv-1b4e28ba-2fa1-11d2-883f-0016d3cca427' })
  conversation_id!: string;

  @ApiProperty({ enum: CHAT_AGENTS, description: 'The agent that handled the message; `none` for what the product cannot do.' })
  agent!: ChatAgent;

  @ApiProperty({ example: 'train', description: 'What the message was understood to ask (`out_of_scope`, `confirmation`, ... included).' })
  intent!: string;

  @ApiPropertyOptional({ enum: ['embedded', 'llm'], description: 'What understood the message: the configured model (LLM_BASE_URL), or the embedded understanding (the default, and the fallback when the model fails). Absent on a confirmation answer.' })
  understood_by?: 'embedded' | 'llm';

  @ApiProperty({ type: [ChatToolCallDto] })
  tool_calls!: ChatToolCallDto[];

  @ApiProperty({ example: 'Started training job train-3f9a1c2b4d5e: xgboost classification of churned on ml_features.customer_churn.' })
  reply!: string;

  @ApiProperty({ description: 'true: nothing was done; the tool calls are the exact plan, carried out only by a confirming message or call with confirmation_id.' })
  needs_confirmation!: boolean;

  @ApiPropertyOptional({ example: 'confirm-3b0c4f6a-0e0b-4c1e-9f5e-4f7c6f1a2b3c' })
  confirmation_id?: string;

  @ApiPropertyOptional({ type: [String], description: 'When the message was ambiguous: the names it could mean (nothing was done).' })
  candidates?: string[];

  @ApiProperty({ type: [ChatLinkDto], description: 'Charts and pages about what was done.' })
  links!: ChatLinkDto[];

  @ApiProperty({ type: [String], example: ['Which features matter most?', 'Now deploy it'] })
  suggestions!: string[];
}
