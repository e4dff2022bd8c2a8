import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { ChatAgent, ConversationEntities, PlannedCall } from '@app/ml/chat/chat-types';

/** Conversations kept per tenant (the oldest untouched one goes first past this bound). */
export const MAX_CONVERSATIONS_PER_TENANT = 500;
/** Turns kept per conversation (the oldest go first). */
export const MAX_TURNS = 100;

/** A plan waiting for a yes: the exact calls it will make. */
export interface PendingConfirmation {
  confirmation_id: string;
  agent: ChatAgent;
  intent: string;
  steps: PlannedCall[];
}

export interface ConversationTurn {
  role: 'user' | 'assistant';
  text: string;
  at: string;
}

export interface Conversation {
  conversation_id: string;
  tenant_id: string;
  history: ConversationTurn[];
  entities: ConversationEntities;
  pending?: PendingConfirmation;
}

/**
 * Conversations in the AI Service's memory, per tenant, bounded (MAX_CONVERSATIONS_PER_TENANT,
 * MAX_TURNS). The AI Service has no database of its own (jobs, models and deployments live in the
 * ML Service), so a restart or another replica loses the conversation but nothing it did: the
 * jobs, models and deployments it made are in the ML Service, and a new conversation finds them by
 * name. A Map keeps insertion order, which makes "least recently used" a delete and re-insert.
 */
@Injectable()
export class ConversationStore {
  private readonly byTenant = new Map<string, Map<string, Conversation>>();

  create(tenantId: string): Conversation {
    const conversation: Conversation = { conversation_id: `conv-${randomUUID()}`, tenant_id: tenantId, history: [], entities: {} };
    this.touch(conversation);
    return conversation;
  }

  /** The tenant's conversation of that id; another tenant's id is as unknown as a made-up one. */
  get(tenantId: string, conversationId: string): Conversation | undefined {
    const conversation = this.byTenant.get(tenantId)?.get(conversationId);
    if (conversation !== undefined) {
      this.touch(conversation);
    }
    return conversation;
  }

  addTurn(conversation: Conversation, role: ConversationTurn['role'], text: string): void {
    conversation.history.push({ role, text, at: new Date().toISOString() });
    conversation.history.splice(0, Math.max(0, conversation.history.length - MAX_TURNS));
  }

  private touch(conversation: Conversation): void {
    let conversations = this.byTenant.get(conversation.tenant_id);
    if (conversations === undefined) {
      conversations = new Map();
      this.byTenant.set(conversation.tenant_id, conversations);
    }
    conversations.delete(conversation.conversation_id);
    conversations.set(conversation.conversation_id, conversation);
    if (conversations.size > MAX_CONVERSATIONS_PER_TENANT) {
      const oldest = conversations.keys().next().value as string;
      conversations.delete(oldest);
    }
  }
}
