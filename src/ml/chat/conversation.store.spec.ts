import { describe, expect, it } from '@jest/globals';
import { ConversationStore, MAX_CONVERSATIONS_PER_TENANT, MAX_TURNS } from '@app/ml/chat/conversation.store';

describe('ConversationStore', () => {
  it("keeps a tenant's conversations to itself", () => {
    const store = new ConversationStore();
    const mine = store.create('acme-corp');
    expect(store.get('acme-corp', mine.conversation_id)).toBe(mine);
    expect(store.get('globex', mine.conversation_id)).toBeUndefined();
  });

  it('forgets the least recently used conversation past the bound, per tenant', () => {
    const store = new ConversationStore();
    const first = store.create('acme-corp');
    const second = store.create('acme-corp');
    const other = store.create('globex');
    store.get('acme-corp', first.conversation_id); // used again: now the second is the oldest
    for (let index = 0; index < MAX_CONVERSATIONS_PER_TENANT - 1; index += 1) store.create('acme-corp');
    expect(store.get('acme-corp', first.conversation_id)).toBe(first);
    expect(store.get('acme-corp', second.conversation_id)).toBeUndefined();
    expect(store.get('globex', other.conversation_id)).toBe(other);
  });

  it('keeps the newest turns of a long conversation', () => {
    const store = new ConversationStore();
    const conversation = store.create('acme-corp');
    for (let index = 0; index < MAX_TURNS + 5; index += 1) store.addTurn(conversation, 'user', `message ${index}`);
    expect(conversation.history).toHaveLength(MAX_TURNS);
    expect(conversation.history[0].text).toBe('message 5');
    expect(conversation.history.at(-1)?.text).toBe(`message ${MAX_TURNS + 4}`);
  });
});
