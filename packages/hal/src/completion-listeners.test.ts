// CompletionListeners: every listener hears each completion even when one unsubscribes during notify.
import { describe, it, expect } from '@jest/globals';
import { pino, type Logger } from 'pino';
import { CompletionListeners } from './completion-listeners.js';

function recordingLogger(): { logger: Logger; errors: unknown[] } {
  const errors: unknown[] = [];
  const logger: Logger = pino(
    { level: 'error' },
    {
      write: (line: string) => {
        errors.push(JSON.parse(line));
      },
    },
  );
  return { logger, errors };
}

describe('CompletionListeners', () => {
  it('a listener removing itself during notify does not make the next one miss that completion', () => {
    const l = new CompletionListeners(recordingLogger().logger);
    const heard: string[] = [];
    const removeA = l.add((n) => {
      heard.push(`a${n}`);
      removeA();
    });
    l.add((n) => heard.push(`b${n}`));
    l.notify(1);
    l.notify(2);
    expect(heard).toEqual(['a1', 'b1', 'b2']);
    expect(l.size).toBe(1);
  });

  it('a listener removing a later one during notify: that one still hears this completion, not the next', () => {
    const l = new CompletionListeners(recordingLogger().logger);
    const heard: string[] = [];
    let removeB = (): void => undefined;
    l.add((n) => {
      heard.push(`a${n}`);
      removeB();
    });
    removeB = l.add((n) => heard.push(`b${n}`));
    l.notify(1);
    l.notify(2);
    expect(heard).toEqual(['a1', 'b1', 'a2']);
  });

  it('a throwing listener is logged and the others still run; removers are idempotent', () => {
    const { logger, errors } = recordingLogger();
    const l = new CompletionListeners(logger);
    const heard: number[] = [];
    l.add(() => {
      throw new Error('boom');
    });
    const remove = l.add((n) => heard.push(n));
    const other = l.add(() => undefined);
    l.notify(7);
    expect(heard).toEqual([7]);
    expect(errors).toHaveLength(1);
    remove();
    remove();
    expect(l.size).toBe(2);
    other();
    l.clear();
    expect(l.size).toBe(0);
  });

  it('rejects a listener that is not a function', () => {
    const l = new CompletionListeners(recordingLogger().logger);
    expect(() => l.add(42 as unknown as () => void)).toThrow(TypeError);
  });
});
