import { Module } from '@nestjs/common';
import { CatalogService } from '@app/ml/chat/catalog.service';
import { ChatController } from '@app/ml/chat/chat.controller';
import { ChatService } from '@app/ml/chat/chat.service';
import { ConversationStore } from '@app/ml/chat/conversation.store';
import { LlmPlanner } from '@app/ml/chat/llm-planner';
import { ToolsModule } from '@app/ml/tools/tools.module';

/** POST /api/v1/ml/chat over the tool registry; part of MlModule, so a host application serves it too. */
@Module({
  imports: [ToolsModule],
  controllers: [ChatController],
  providers: [ChatService, CatalogService, ConversationStore, LlmPlanner],
})
export class ChatModule {}
