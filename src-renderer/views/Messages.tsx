// Runs in: renderer. Xray's own warnings and errors (see store/messages.ts),
// at the head of the content, each until dismissed. An error is announced at
// once; a warning waits its turn.
import { useActions, useXray } from '../store/context';
import type { XrayMessage } from '../store/message-types';

export function Messages() {
  const messages = useXray((s) => s.messages);
  if (messages.length === 0) return null;
  return (
    <section className="messages" aria-label="Messages from Xray">
      {messages.map((m) => (
        <MessageCard key={m.key} message={m} />
      ))}
    </section>
  );
}

function MessageCard({ message }: { message: XrayMessage }) {
  const { dismissMessage } = useActions();
  const { level, text, count } = message;
  return (
    <div className={`message message-${level}`} role={level === 'error' ? 'alert' : 'status'}>
      <p>
        {text}
        {count > 1 && <span className="hint"> ({count} times)</span>}
      </p>
      <button type="button" className="link" aria-label="Dismiss" onClick={() => dismissMessage(message.key)}>
        ×
      </button>
    </div>
  );
}
