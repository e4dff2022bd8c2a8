import { Body, Controller, HttpCode, HttpStatus, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ErrorResponseDto } from '@app/common/filters/error-response.dto';
import { CallerTenant, type TenantContext } from '@app/common/tenant/tenant-context';
import { ChatService } from '@app/ml/chat/chat.service';
import { ChatRequestDto, ChatResponseDto } from '@app/ml/chat/dto/chat.dto';
import { TenantScopedMlApi } from '@app/ml/ml-api.decorator';

@ApiTags('chat')
@TenantScopedMlApi()
@Controller('api/v1/ml/chat')
export class ChatController {
  constructor(private readonly chat: ChatService) {}

  @Post()
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Talk to the ML assistant',
    description:
      'Plain English in; the agent, the tool calls it made (tools of the registry, REST field names) with their results, a reply, links and suggestions out. Risky calls (deploy, stage change, traffic, rollback, cancel, delete) answer `needs_confirmation` with the exact plan and a `confirmation_id`; "yes" (or `confirm: true` with that id) carries it out. `mode: "plan"` does nothing and answers the plan.',
  })
  @ApiOkResponse({ type: ChatResponseDto })
  @ApiResponse({ status: 400, type: ErrorResponseDto, description: 'The body does not match the schema.' })
  @ApiResponse({ status: 404, type: ErrorResponseDto, description: 'No such conversation for the caller, or no such plan waiting for confirmation (named).' })
  send(@Body() body: ChatRequestDto, @CallerTenant() caller: TenantContext): Promise<ChatResponseDto> {
    return this.chat.chat(body, caller);
  }
}
