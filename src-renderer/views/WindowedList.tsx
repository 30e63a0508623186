// Runs in: renderer. A long list that keeps in the document only the rows in
// view and a few either side, so ten thousand rows cost what forty do. Rows
// have one fixed height; the list scrolls in its own box, which keyboard
// users focus to move a selection with the arrow keys, Page Up/Down, Home and End.
import { Fragment, useLayoutEffect, useRef, useState, type CSSProperties, type KeyboardEvent, type ReactElement, type UIEvent } from 'react';
import { flushSync } from 'react-dom';

/** OVERSCAN is how many rows are kept beyond each edge of the view, so a small scroll never shows a gap. */
const OVERSCAN = 8;
/** FALLBACK_HEIGHT is the box's height before it is laid out (and where nothing is, as in a test DOM). */
const FALLBACK_HEIGHT = 480;

export interface WindowedListProps<T> {
  readonly items: readonly T[];
  /** rowHeight is every row's height in pixels; the stylesheet must give rows that height. */
  readonly rowHeight: number;
  readonly label: string;
  readonly className?: string;
  readonly rowKey: (item: T, index: number) => string;
  /** renderRow draws one row; `style` places it and goes on the row's outermost element. */
  readonly renderRow: (item: T, index: number, style: CSSProperties) => ReactElement;
  /** selected is the index of the selected row; the keys move it and keep it in view. */
  readonly selected: number | null;
  readonly onSelect: (index: number) => void;
  /** followEnd starts at the last row and stays there as rows are added, unless the person scrolled away. */
  readonly followEnd?: boolean;
}

export function WindowedList<T>({ items, rowHeight, label, className, rowKey, renderRow, selected, onSelect, followEnd = false }: WindowedListProps<T>) {
  const box = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(FALLBACK_HEIGHT);
  const atEnd = useRef(followEnd);
  const total = items.length * rowHeight;

  useLayoutEffect(() => {
    const el = box.current;
    if (!el) return;
    const measure = () => setHeight(el.clientHeight || FALLBACK_HEIGHT);
    measure();
    if (typeof ResizeObserver === 'undefined') return;
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    return () => observer.disconnect();
  }, []);

  /** scrollTo moves the view and draws the rows there now, not one frame later. */
  const scrollTo = (top: number) => {
    const el = box.current;
    if (!el) return;
    el.scrollTop = top;
    setScrollTop(top);
  };

  useLayoutEffect(() => {
    if (followEnd && atEnd.current) scrollTo(Math.max(0, total - height));
  }, [followEnd, total, height]);

  const onScroll = (e: UIEvent<HTMLDivElement>) => {
    const el = e.currentTarget;
    atEnd.current = el.scrollTop + el.clientHeight >= el.scrollHeight - rowHeight;
    // A scroll update would otherwise wait for a later task and draw after this frame's paint, showing a gap where rows are coming.
    flushSync(() => setScrollTop(el.scrollTop));
  };

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    if (e.target !== e.currentTarget || items.length === 0) return;
    const page = Math.max(1, Math.floor(height / rowHeight) - 1);
    const firstInView = Math.ceil(scrollTop / rowHeight);
    const lastInView = Math.floor((scrollTop + height) / rowHeight) - 1;
    // Without a selection the first key picks a row in view: going down starts at the top of the view, going up at its bottom.
    const moves: Record<string, number> =
      selected === null
        ? { ArrowDown: firstInView, PageDown: firstInView, ArrowUp: lastInView, PageUp: lastInView, Home: 0, End: items.length - 1 }
        : { ArrowDown: selected + 1, ArrowUp: selected - 1, PageDown: selected + page, PageUp: selected - page, Home: 0, End: items.length - 1 };
    const to = moves[e.key];
    if (to === undefined) return;
    e.preventDefault();
    const index = Math.max(0, Math.min(items.length - 1, to));
    onSelect(index);
    const top = index * rowHeight;
    if (top < scrollTop) scrollTo(top);
    else if (top + rowHeight > scrollTop + height) scrollTo(top + rowHeight - height);
  };

  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - OVERSCAN);
  const last = Math.min(items.length, Math.ceil((scrollTop + height) / rowHeight) + OVERSCAN);
  return (
    <div ref={box} className={className ? `windowed ${className}` : 'windowed'} role="region" aria-label={label} tabIndex={0} onScroll={onScroll} onKeyDown={onKeyDown}>
      <ol style={{ height: total }}>
        {items.slice(first, last).map((item, i) => (
          <Fragment key={rowKey(item, first + i)}>{renderRow(item, first + i, { top: (first + i) * rowHeight, height: rowHeight })}</Fragment>
        ))}
      </ol>
    </div>
  );
}
