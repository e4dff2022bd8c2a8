// The workbench page's script: the chat conversation over POST /api/v1/ml/chat/stream, its
// confirmation buttons, each job's live progress (GET /api/v1/ml/jobs/:id/events) and charts inline.
// Plain browser JavaScript, no framework and no build step: the page is one conversation list and
// two forms, which the DOM API does in a few lines.
//
// Every call sends the API key as X-API-Key (tenant-scoped like any other client). The key lives in
// sessionStorage only: it ends with the tab, and never goes into a URL (which is why event streams
// are read with fetch rather than EventSource or the WebSocket's ?api_key=).
'use strict';

(() => {
  const KEY_STORAGE = 'ml-workbench.api-key';
  const byId = (id) => document.getElementById(id);
  const conversationList = byId('conversation');
  const messageInput = byId('message');
  let conversationId;

  function apiKey() {
    return sessionStorage.getItem(KEY_STORAGE) ?? '';
  }

  function showKeyState() {
    const set = apiKey() !== '';
    byId('key-state').textContent = set ? 'key set for this tab' : 'enter an API key to start';
    byId('key-forget').hidden = !set;
    for (const id of ['message', 'send', 'new-conversation']) byId(id).disabled = !set;
  }

  function element(tag, attributes = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
    // Text nodes only: what the service answers is shown, never interpreted as HTML.
    for (const child of children) node.append(child);
    return node;
  }

  function addEntry(role, ...children) {
    const entry = element('li', { class: role }, ...children);
    conversationList.append(entry);
    entry.scrollIntoView({ block: 'end' });
    return entry;
  }

  /** The message of an error body ({message, errors: [{field, message}]}) or of a failed fetch. */
  async function errorText(response) {
    try {
      const body = await response.json();
      const fields = (body.errors ?? []).map((error) => `${error.field}: ${error.message}`);
      return [`${response.status}: ${body.message}`, ...fields].join('\n');
    } catch {
      return `${response.status} ${response.statusText}`;
    }
  }

  /**
   * Reads a text/event-stream response body and calls onEvent(name, data) per event. The Server-Sent
   * Events framing (WHATWG HTML §9.2): events end with a blank line, `data:` lines join with "\n",
   * lines starting with ":" are comments (keep-alives).
   */
  async function readEvents(response, onEvent) {
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value.replace(/\r\n?/g, '\n');
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let name = 'message';
        const data = [];
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) continue;
          const colon = line.indexOf(':');
          const field = colon < 0 ? line : line.slice(0, colon);
          const text = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
          if (field === 'event') name = text;
          else if (field === 'data') data.push(text);
        }
        if (data.length > 0) onEvent(name, JSON.parse(data.join('\n')));
      }
    }
  }

  function authorized(init = {}) {
    return { ...init, headers: { ...(init.headers ?? {}), 'X-API-Key': apiKey() } };
  }

  /**
   * A job's progress as [done, total] from its kind's snapshot (docs/contract.md, "Progress events"):
   * training `iteration`/`total_iterations`, a sweep's ended trials (completed, stopped early or
   * failed) of `trials_total`, and any `<x>_done`/`<x>_total` pair (batch rows, profiling stages).
   */
  function progressFraction(progress) {
    if (progress === null || typeof progress !== 'object') return undefined;
    if (typeof progress.iteration === 'number' && typeof progress.total_iterations === 'number') return [progress.iteration, progress.total_iterations];
    if (typeof progress.trials_total === 'number' && typeof progress.trials_completed === 'number') {
      return [progress.trials_completed + (progress.trials_stopped_early ?? 0) + (progress.trials_failed ?? 0), progress.trials_total];
    }
    for (const [name, total] of Object.entries(progress)) {
      const stem = name.endsWith('_total') ? name.slice(0, -'_total'.length) : undefined;
      if (stem !== undefined && typeof total === 'number' && typeof progress[`${stem}_done`] === 'number') return [progress[`${stem}_done`], total];
    }
    return undefined;
  }

  /** Follows a job's event stream into a progress bar and a status line until the job ends. */
  async function followJob(href, container) {
    const jobId = href.split('/').at(-2);
    const bar = element('progress', { max: '1' });
    const label = element('span', {}, `${jobId}: waiting for its first event`);
    const box = element('div', { class: 'progress', 'data-job-id': jobId }, bar, label);
    container.append(box);
    try {
      const response = await fetch(href, authorized({ headers: { Accept: 'text/event-stream' } }));
      if (!response.ok) throw new Error(await errorText(response));
      await readEvents(response, (name, data) => showJobEvent(jobId, box, name, data));
    } catch (error) {
      box.dataset.status = 'error';
      label.textContent = `${jobId}: progress unavailable: ${error instanceof Error ? error.message : String(error)}`;
    }
  }

  /** One event of a job's stream (status, progress, end, or error) shown in its progress box. */
  function showJobEvent(jobId, box, name, data) {
    const [bar, label] = box.children;
    box.dataset.status = name === 'error' ? 'error' : data.status;
    if (name === 'error') {
      label.textContent = `${jobId}: progress stream ended: ${data.message}`;
      return;
    }
    const fraction = progressFraction(data.progress);
    if (fraction !== undefined && fraction[1] > 0) bar.value = fraction[0] / fraction[1];
    if (name === 'end') {
      if (data.status === 'completed') bar.value = 1;
      const error = data.job?.error;
      label.textContent = `${jobId}: ${data.status}${error ? ` (${typeof error === 'string' ? error : JSON.stringify(error)})` : ''}`;
    } else {
      label.textContent = `${jobId}: ${data.status}${fraction ? ` ${fraction[0]} / ${fraction[1]}` : ''}`;
    }
  }

  /** A chart link (…/charts/<name>) as an image: fetched with the key, shown from a blob URL. */
  async function showChart(link, container) {
    const figure = element('figure', { class: 'chart' }, element('figcaption', {}, link.title));
    container.append(figure);
    try {
      const response = await fetch(link.href, authorized({ headers: { Accept: 'image/png' } }));
      if (!response.ok) throw new Error(await errorText(response));
      figure.append(element('img', { alt: link.title, src: URL.createObjectURL(await response.blob()) }));
    } catch (error) {
      figure.append(element('div', { class: 'error' }, error instanceof Error ? error.message : String(error)));
    }
  }

  /**
   * Any other link: a button that fetches it with the key. JSON is shown folded under the button;
   * anything else (the profile's HTML report) is saved as a file rather than opened here, where it
   * would run with this page's origin and its key.
   */
  function linkButton(link) {
    const button = element('button', { type: 'button', title: link.href }, link.title);
    button.addEventListener('click', async () => {
      try {
        const response = await fetch(link.href, authorized());
        if (!response.ok) throw new Error(await errorText(response));
        if ((response.headers.get('Content-Type') ?? '').includes('json')) {
          button.after(element('details', { open: '' }, element('summary', {}, link.href), element('pre', {}, JSON.stringify(await response.json(), null, 2))));
          return;
        }
        const extension = (response.headers.get('Content-Type') ?? '').includes('html') ? '.html' : '';
        const save = element('a', { href: URL.createObjectURL(await response.blob()), download: `${link.href.split('/').filter(Boolean).slice(-2).join('-')}${extension}` });
        save.click();
      } catch (error) {
        button.after(element('div', { class: 'error' }, error instanceof Error ? error.message : String(error)));
      }
    });
    return button;
  }

  function renderCalls(list, calls) {
    list.replaceChildren(
      ...calls.map((call) => {
        const details = element('details', {}, element('summary', {}, call.tool, element('span', { class: 'status' }, call.status)), element('pre', {}, JSON.stringify(call.arguments, null, 2)));
        if (call.result !== undefined) details.append(element('pre', {}, JSON.stringify(call.result, null, 2)));
        return element('li', { 'data-tool': call.tool, 'data-status': call.status }, details);
      }),
    );
  }

  function renderAnswer(entry, answer) {
    conversationId = answer.conversation_id;
    entry.dataset.agent = answer.agent;
    entry.querySelector('.agent').textContent = answer.agent;
    entry.querySelector('.reply').textContent = answer.reply;
    renderCalls(entry.querySelector('.steps'), answer.tool_calls);
    if (answer.candidates?.length) entry.append(element('div', { class: 'candidates' }, `Did you mean: ${answer.candidates.join(', ')}?`));
    if (answer.needs_confirmation) {
      const yes = element('button', { type: 'button', class: 'yes' }, 'Confirm');
      const no = element('button', { type: 'button', class: 'no' }, 'Cancel');
      const answerWith = (confirm) => {
        yes.disabled = no.disabled = true;
        void send({ conversation_id: conversationId, confirmation_id: answer.confirmation_id, confirm }, confirm ? 'Confirm' : 'Cancel');
      };
      yes.addEventListener('click', () => answerWith(true));
      no.addEventListener('click', () => answerWith(false));
      entry.append(element('div', { class: 'confirm' }, yes, no));
    }
    const links = element('div', { class: 'links' });
    for (const link of answer.links) {
      if (link.href.endsWith('/events')) void followJob(link.href, entry);
      else if (/\/charts\/[^/]+$/.test(link.href)) void showChart(link, entry);
      else links.append(linkButton(link));
    }
    if (links.childElementCount > 0) entry.append(links);
    if (answer.suggestions.length > 0) {
      const suggestions = element('div', { class: 'suggestions' });
      for (const text of answer.suggestions) {
        const button = element('button', { type: 'button' }, text);
        button.addEventListener('click', () => void send({ message: text, ...(conversationId ? { conversation_id: conversationId } : {}) }, text));
        suggestions.append(button);
      }
      entry.append(suggestions);
    }
  }

  /** Sends one chat request and shows its steps as they stream, then the answer. */
  async function send(body, shown) {
    addEntry('user', shown);
    const entry = addEntry('assistant', element('span', { class: 'agent' }, '…'), element('div', { class: 'reply' }, 'working…'), element('ol', { class: 'steps' }));
    const steps = entry.querySelector('.steps');
    let calls = [];
    try {
      const response = await fetch('/api/v1/ml/chat/stream', authorized({ method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'text/event-stream' }, body: JSON.stringify(body) }));
      if (!response.ok) throw new Error(await errorText(response));
      await readEvents(response, (name, data) => {
        if (name === 'understood') {
          entry.querySelector('.agent').textContent = data.agent;
          calls = data.tool_calls;
          renderCalls(steps, calls);
        } else if (name === 'tool_call' || name === 'tool_result') {
          const index = calls.findIndex((call) => call.tool === data.tool && (call.status === 'planned' || call.status === 'running'));
          if (index >= 0) calls[index] = { ...calls[index], status: name === 'tool_call' ? 'running' : data.status, result: data.result };
          renderCalls(steps, calls);
        } else if (name === 'answer') {
          renderAnswer(entry, data);
        } else if (name === 'error') {
          throw new Error(`${data.status}: ${data.message}`);
        }
      });
    } catch (error) {
      entry.classList.add('error');
      entry.querySelector('.agent').textContent = 'error';
      entry.querySelector('.reply').textContent = error instanceof Error ? error.message : String(error);
    }
    entry.scrollIntoView({ block: 'end' });
  }

  byId('key-form').addEventListener('submit', (event) => {
    event.preventDefault();
    sessionStorage.setItem(KEY_STORAGE, byId('api-key').value.trim());
    byId('api-key').value = '';
    showKeyState();
  });
  byId('key-forget').addEventListener('click', () => {
    sessionStorage.removeItem(KEY_STORAGE);
    showKeyState();
  });
  byId('new-conversation').addEventListener('click', () => {
    conversationId = undefined;
    conversationList.replaceChildren();
  });
  byId('chat-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const message = messageInput.value.trim();
    if (message === '') return;
    messageInput.value = '';
    void send({ message, ...(conversationId ? { conversation_id: conversationId } : {}) }, message);
  });
  showKeyState();
})();
