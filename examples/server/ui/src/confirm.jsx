// A change that is asked for twice: the first click opens this box in place, which
// says what will happen, takes the focus and answers to Escape; only its confirm
// button makes the change. In the page, not a browser dialog, so it reads like the
// rest of it and a screen reader announces it.
import { useLayoutEffect, useRef } from 'preact/hooks';

export function ConfirmBox({ id, title, children, confirmLabel, busy, onConfirm, onCancel }) {
  const confirm = useRef(null);
  // Before the box is painted: an Enter pressed as it appears must not reach the
  // button that opened it (useEffect runs a frame later).
  useLayoutEffect(() => confirm.current?.focus(), []);
  return (
    <div
      class="confirm"
      role="alertdialog"
      aria-labelledby={`${id}-title`}
      aria-describedby={`${id}-text`}
      onKeyDown={(e) => {
        if (e.key === 'Escape') onCancel();
      }}
    >
      <p id={`${id}-title`} class="title">
        {title}
      </p>
      <div id={`${id}-text`}>{children}</div>
      <div class="actions">
        <button type="button" class="primary" ref={confirm} disabled={busy} onClick={onConfirm}>
          {confirmLabel}
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </div>
  );
}
