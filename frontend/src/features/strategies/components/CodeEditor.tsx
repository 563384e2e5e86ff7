import { useRef, type KeyboardEvent } from "react";

/**
 * A plain-text editor for strategy code: monospace, Tab indents by four spaces (Escape then
 * Tab leaves the field, so keyboard users are never trapped).
 */
export function CodeEditor({
  id,
  value,
  onChange,
  readOnly = false,
  label,
}: {
  id: string;
  value: string;
  onChange: (code: string) => void;
  readOnly?: boolean;
  label: string;
}) {
  const escaped = useRef(false);
  const onKeyDown = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === "Escape") {
      escaped.current = true;
      return;
    }
    if (event.key !== "Tab" || escaped.current || readOnly) {
      escaped.current = false;
      return;
    }
    event.preventDefault();
    const area = event.currentTarget;
    const { selectionStart, selectionEnd } = area;
    const next = `${value.slice(0, selectionStart)}    ${value.slice(selectionEnd)}`;
    onChange(next);
    requestAnimationFrame(() => area.setSelectionRange(selectionStart + 4, selectionStart + 4));
  };
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <textarea
        id={id}
        className="code"
        spellCheck={false}
        value={value}
        readOnly={readOnly}
        onChange={(e) => onChange(e.target.value)}
        onKeyDown={onKeyDown}
        aria-describedby={`${id}-help`}
      />
      <small id={`${id}-help`} className="muted">
        Define <code>targets(bars, params)</code> or <code>on_bar(i, bars, params, state)</code>. Tab indents; press Escape then Tab to leave the editor.
      </small>
    </div>
  );
}
