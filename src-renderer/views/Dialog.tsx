// Runs in: renderer. Every dialog's keyboard and focus rules, in one place:
// it takes focus when it opens, keeps Tab and Shift+Tab inside, keeps a press
// on the backdrop from taking focus away, cancels with Esc from wherever
// focus is inside it, and gives focus back to what had it when it closes.
import { useLayoutEffect, useRef, type KeyboardEvent, type MouseEvent, type ReactNode, type RefObject } from 'react';

export interface DialogProps {
  readonly role?: 'dialog' | 'alertdialog';
  /** labelledBy is the id of the element that names the dialog (its title). */
  readonly labelledBy: string;
  /** className is added to "dialog" on the dialog element. */
  readonly className?: string;
  /** overlayClassName is added to "overlay" on the backdrop. */
  readonly overlayClassName?: string;
  /** onCancel is what Esc does: close without doing anything, or the answer that means no. */
  readonly onCancel: () => void;
  /** initialFocus takes focus when the dialog opens; without it the dialog itself does (never a button that acts). */
  readonly initialFocus?: RefObject<HTMLElement | null>;
  /** behind is made inert while the dialog shows, so clicks, Tab and screen readers reach only the dialog. */
  readonly behind?: RefObject<HTMLElement | null>;
  readonly children: ReactNode;
}

/** Dialog is the frame every dialog is drawn in: a backdrop over the window and the dialog itself, with the rules above. */
export function Dialog({ role = 'dialog', labelledBy, className, overlayClassName, onCancel, initialFocus, behind, children }: DialogProps) {
  const dialog = useRef<HTMLDivElement>(null);
  useDialogFocus(dialog, initialFocus, behind);

  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    if (e.key === 'Escape') {
      e.preventDefault();
      e.stopPropagation();
      onCancel();
    } else if (e.key === 'Tab') {
      keepTabInside(e);
    }
  };

  return (
    <div className={overlayClassName ? `overlay ${overlayClassName}` : 'overlay'} onMouseDown={keepFocusInside}>
      <div
        ref={dialog}
        className={className ? `dialog ${className}` : 'dialog'}
        role={role}
        aria-modal="true"
        aria-labelledby={labelledBy}
        tabIndex={-1}
        onKeyDown={onKeyDown}
      >
        {children}
      </div>
    </div>
  );
}

/**
 * useDialogFocus notes the element that had focus, makes `behind` inert and
 * moves focus into the dialog; when the dialog goes it undoes both. A layout
 * effect, so the note is taken before anything in the dialog takes focus.
 */
function useDialogFocus(dialog: RefObject<HTMLElement | null>, initialFocus: RefObject<HTMLElement | null> | undefined, behind: RefObject<HTMLElement | null> | undefined): void {
  useLayoutEffect(() => {
    const returnTo = document.activeElement;
    const background = behind?.current ?? null;
    const wasInert = background?.hasAttribute('inert') ?? false;
    background?.setAttribute('inert', '');
    (initialFocus?.current ?? dialog.current)?.focus();
    return () => {
      if (!wasInert) background?.removeAttribute('inert');
      if (returnTo instanceof HTMLElement && returnTo.isConnected) returnTo.focus();
    };
  }, [dialog, initialFocus, behind]);
}

/** keepFocusInside stops a press on the backdrop from taking focus out of the dialog. */
function keepFocusInside(e: MouseEvent<HTMLElement>): void {
  if (e.target === e.currentTarget) e.preventDefault();
}

/**
 * keepTabInside wraps Tab and Shift+Tab at the dialog's edges so focus never
 * leaves it; between the edges the browser moves focus as usual.
 */
function keepTabInside(e: KeyboardEvent<HTMLElement>): void {
  const stops = tabStops(e.currentTarget);
  const first = stops[0];
  const last = stops.at(-1);
  const active = document.activeElement;
  if (!first || !last) {
    e.preventDefault();
  } else if (e.shiftKey && (active === first || active === e.currentTarget)) {
    e.preventDefault();
    last.focus();
  } else if (!e.shiftKey && active === last) {
    e.preventDefault();
    first.focus();
  }
}

/**
 * tabStops lists the elements Tab visits inside `root`, in order: enabled
 * controls, and of each radio group the one stop the browser gives it (its
 * checked radio, or its first when none is checked).
 */
function tabStops(root: HTMLElement): HTMLElement[] {
  const candidates = [...root.querySelectorAll<HTMLElement>('button, input, select, textarea, a[href], [tabindex]')];
  return candidates.filter((el) => {
    if (el.tabIndex < 0 || el.matches(':disabled')) return false;
    if (!(el instanceof HTMLInputElement) || el.type !== 'radio' || el.checked) return true;
    const group = candidates.filter((other): other is HTMLInputElement => other instanceof HTMLInputElement && other.type === 'radio' && other.name === el.name);
    return !group.some((radio) => radio.checked) && group[0] === el;
  });
}
