import { Body, Controller, HttpCode, HttpException, HttpStatus, Post, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { ServerResponse } from 'node:http';
import { ErrorResponseDto } from '@app/common/filters/error-response.dto';
import { takeOverResponse } from '@app/common/http/node-http';
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

  @Post('stream')
  @ApiOperation({
    summary: 'Talk to the ML assistant, its steps streamed',
    description:
      'The same request and answer as POST /api/v1/ml/chat, as Server-Sent Events while it works: `understood` (agent, intent, planned calls), `tool_call` and `tool_result` for each call, then `answer` (the whole response) or `error` ({status, message}). A bad body, an unknown conversation or confirmation answers the usual JSON error before any event.',
  })
  @ApiProduces('text/event-stream')
  @ApiOkResponse({ description: 'text/event-stream: events understood, tool_call, tool_result, then answer (a ChatResponse) or error.' })
  @ApiResponse({ status: 400, type: ErrorResponseDto, description: 'The body does not match the schema.' })
  @ApiResponse({ status: 404, type: ErrorResponseDto, description: 'No such conversation for the caller, or no such plan waiting for confirmation (named).' })
  async stream(@Body() body: ChatRequestDto, @CallerTenant() caller: TenantContext, @Res() reply: object): Promise<void> {
    // Taken over at the first event: until then the adapter may still answer a JSON error.
    let response: ServerResponse | undefined;
    const send = (event: string, data: unknown): void => {
      if (response === undefined) {
        response = takeOverResponse(reply);
        response.writeHead(HttpStatus.OK, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', 'X-Accel-Buffering': 'no' });
        response.flushHeaders();
      }
      response.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    let answer: ChatResponseDto;
    try {
      answer = await this.chat.chat(body, caller, send);
    } catch (error) {
      // Before the first event the usual JSON error (the exception filter) answers; after it, an event.
      if (response === undefined) throw error;
      send('error', error instanceof HttpException ? { status: error.getStatus(), message: error.message } : { status: 500, message: `internal error (request_id ${caller.requestId})` });
      response.end();
      return;
    }
    send('answer', answer);
    response?.end();
  }
}
