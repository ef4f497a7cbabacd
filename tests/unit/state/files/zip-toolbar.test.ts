/** The toolbar's Download: "Download as ZIP" for several rows or any folder, "Download" for one file. */
import { describe, expect, it, vi } from 'vitest';
import type { Row } from '../../../../src/state/files/listing';
import { standardToolbarActions } from '../../../../src/state/files/toolbar-actions';

const file = (key: string): Row => ({
  kind: 'file',
  key,
  name: key,
  sizeBytes: 1,
  lastModifiedMs: undefined,
  etag: undefined,
});
const folder: Row = { kind: 'folder', prefix: 'docs/', name: 'docs' };

describe('the toolbar’s Download', () => {
  it('says "Download as ZIP" when the selection is one ZIP', () => {
    const [download] = standardToolbarActions({ download: vi.fn(), protect: vi.fn() });
    expect(download?.labelFor?.([file('a')])).toBe('Download');
    expect(download?.labelFor?.([file('a'), file('b')])).toBe('Download as ZIP');
    expect(download?.labelFor?.([folder])).toBe('Download as ZIP');
    expect(download?.describe([file('a'), folder])).toBe('Download 1 file and 1 folder as one ZIP');
  });

  it('hands the selected rows to the handler', () => {
    const handler = vi.fn();
    const [download] = standardToolbarActions({ download: handler, protect: vi.fn() });
    const rows = [file('a'), folder];
    const trigger = {} as HTMLElement;
    download?.run(rows, trigger);
    expect(handler).toHaveBeenCalledWith(rows, trigger);
  });
});
