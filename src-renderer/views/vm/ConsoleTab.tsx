// Runs in: renderer. A VM's console tab: a terminal (xterm.js) on its serial
// console, live, in colour, with scrollback, that sends what is typed.
import { Terminal } from '@xterm/xterm';
import '@xterm/xterm/css/xterm.css';
import { useEffect, useRef, useState } from 'react';
import { isActive } from '../../../src-main/shared/vm';
import { useActions, useXray } from '../../store/context';

/**
 * COLUMNS and ROWS are the screen the guest assumes: a serial line carries no
 * size, so firmware draws for 80×25 (UEFI) and Linux for 80×24 until told
 * otherwise (`stty rows R cols C` in the guest). A terminal fitted to the
 * pane instead would put UEFI's cursor-addressed screens in the wrong rows.
 */
const COLUMNS = 80;
const ROWS = 25;
/** SCROLLBACK_LINES is how far back the terminal scrolls. */
const SCROLLBACK_LINES = 5000;
/**
 * BACKGROUND is the terminal's, and its palette's black too: firmware paints
 * "black" backgrounds explicitly (UEFI's ESC[40m), which would otherwise show
 * as grey bands on the default background.
 */
const BACKGROUND = '#111111';

export function ConsoleTab({ vm }: { vm: string }) {
  const running = useXray((s) => (s.vms[vm] ? isActive(s.vms[vm].state) : false));
  const { attachConsole, typeIntoConsole } = useActions();
  const box = useRef<HTMLDivElement>(null);
  const terminal = useRef<Terminal | null>(null);
  const [problem, setProblem] = useState<string | null>(null);

  useEffect(() => {
    const term = new Terminal({
      cols: COLUMNS,
      rows: ROWS,
      scrollback: SCROLLBACK_LINES,
      fontFamily: 'ui-monospace, Menlo, "DejaVu Sans Mono", monospace',
      fontSize: 13,
      cursorBlink: true,
      theme: { background: BACKGROUND, black: BACKGROUND },
    });
    terminal.current = term;
    term.open(box.current!);
    const detach = attachConsole(vm, {
      reset: (text) => {
        term.reset();
        term.write(text);
      },
      write: (text) => term.write(text),
      failed: setProblem,
    });
    const typing = term.onData((data) => {
      setProblem(null);
      typeIntoConsole(vm, data).catch((err: unknown) => setProblem(err instanceof Error ? err.message : String(err)));
    });
    term.focus();
    return () => {
      typing.dispose();
      detach();
      term.dispose();
      terminal.current = null;
    };
  }, [vm, attachConsole, typeIntoConsole]);

  useEffect(() => {
    if (terminal.current) terminal.current.options.disableStdin = !running;
  }, [running]);

  return (
    <div className="console-tab">
      <p className="hint">
        {running ? 'The serial console: click it and type. Ctrl-C and Tab go to the guest.' : 'The VM is stopped: this is the end of its last run. Start it to type here.'}
      </p>
      {problem && (
        <p className="error" role="alert">
          {problem}
        </p>
      )}
      <div className="terminal-frame" ref={box} role="group" aria-label={`Serial console of ${vm}`} />
    </div>
  );
}
