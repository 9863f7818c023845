/**
 * Settings → Storage's store with a fake storage manager and a fake list of stored files: the
 * estimate in words, persistence, deleting a file (list and estimate read again), and browsers
 * that report nothing.
 */
import { describe, expect, it } from 'vitest';
import {
  EMPTY_TEXT,
  KEPT_TEXT,
  MAY_CLEAR_TEXT,
  STORED_PAGE,
  StorageStore,
  type StorageManagerLike,
  type StoredFile,
  type StoredFiles
} from '../../../src/lib/stores/storage.svelte.js';

interface FakeManager extends StorageManagerLike {
  usage: number;
  quota: number | undefined;
  kept: boolean;
  /** What persist() answers. */
  grant: boolean;
  estimates: number;
}

function fakeManager(init: Partial<FakeManager> = {}): FakeManager {
  const m: FakeManager = {
    usage: 1_200_000_000,
    quota: 10_000_000_000,
    kept: false,
    grant: true,
    estimates: 0,
    ...init,
    estimate: async () => {
      m.estimates++;
      return { usage: m.usage, ...(m.quota === undefined ? {} : { quota: m.quota }) };
    },
    persisted: async () => m.kept,
    persist: async () => {
      m.kept = m.grant;
      return m.grant;
    }
  };
  return m;
}

function fakeFiles(initial: StoredFile[], manager?: FakeManager) {
  let list = [...initial];
  const removed: string[] = [];
  const files: StoredFiles & { removed: string[] } = {
    removed,
    stored: () => [...list],
    removeLocal: async (_conversationId, messageId) => {
      const gone = list.find((f) => f.messageId === messageId);
      if (gone === undefined) throw new Error('not stored');
      list = list.filter((f) => f !== gone);
      removed.push(messageId);
      if (manager !== undefined) manager.usage -= gone.size;
    }
  };
  return files;
}

const names: Record<string, string> = { c1: 'Ben', c2: 'Climbing' };
const nameOf = (id: string): string | undefined => names[id];

const stored: StoredFile[] = [
  { conversationId: 'c1', messageId: 'm2', name: 'photo.jpg', size: 200_000_000 },
  { conversationId: 'c2', messageId: 'm1', name: 'topo.pdf', size: 3_000_000 },
  { conversationId: 'gone', messageId: 'm0', name: 'old.zip', size: 1_000 }
];

describe('StorageStore', () => {
  it('reads the estimate, persistence and the stored files', async () => {
    const manager = fakeManager();
    const store = new StorageStore(manager, fakeFiles(stored), nameOf);
    expect(store.measured).toBe(false);
    expect(store.usedText).toBeUndefined();
    await store.refresh();
    expect(store.measured).toBe(true);
    expect(store.usage).toBe(1_200_000_000);
    expect(store.usedText).toBe('1.2 GB of 10 GB used');
    expect(store.persisted).toBe(false);
    expect(store.persistText).toBe(MAY_CLEAR_TEXT);
    expect(store.files.map((f) => [f.name, f.conversation])).toEqual([
      ['photo.jpg', 'Ben'],
      ['topo.pdf', 'Climbing'],
      ['old.zip', 'Unknown conversation']
    ]);
  });

  it('says only the usage when the quota is unknown', async () => {
    const store = new StorageStore(fakeManager({ quota: undefined }), fakeFiles([]), nameOf);
    await store.refresh();
    expect(store.usedText).toBe('1.2 GB used');
    expect(store.stored).toEqual([]);
    expect(EMPTY_TEXT).toBe('No files stored yet.');
  });

  it('asks to keep the files and says what the browser answered', async () => {
    const granted = new StorageStore(fakeManager(), fakeFiles([]), nameOf);
    await granted.refresh();
    await granted.persist();
    expect(granted.persisted).toBe(true);
    expect(granted.persistText).toBe(KEPT_TEXT);

    const refused = new StorageStore(fakeManager({ grant: false }), fakeFiles([]), nameOf);
    await refused.persist();
    expect(refused.persistText).toBe(MAY_CLEAR_TEXT);
  });

  it('deletes a file, then reads the list and the estimate again', async () => {
    const manager = fakeManager();
    const files = fakeFiles(stored, manager);
    const store = new StorageStore(manager, files, nameOf);
    await store.refresh();
    const before = manager.estimates;
    const removing = store.remove('c1', 'm2');
    expect(store.deleting).toBe('m2');
    await removing;
    expect(store.deleting).toBeUndefined();
    expect(files.removed).toEqual(['m2']);
    expect(store.files.map((f) => f.name)).toEqual(['topo.pdf', 'old.zip']);
    expect(manager.estimates).toBe(before + 1);
    expect(store.usedText).toBe('1.0 GB of 10 GB used');
    expect(store.error).toBeUndefined();
  });

  it('says so when a file could not be deleted', async () => {
    const store = new StorageStore(fakeManager(), fakeFiles(stored), nameOf);
    await store.refresh();
    await store.remove('c1', 'nope');
    expect(store.error).toContain('could not be deleted');
    expect(store.stored).toHaveLength(3);
  });

  it('lists a page of files at a time', async () => {
    const many: StoredFile[] = Array.from({ length: STORED_PAGE + 5 }, (_, i) => ({
      conversationId: 'c1',
      messageId: `m${i}`,
      name: `f${i}.txt`,
      size: i
    }));
    const store = new StorageStore(fakeManager(), fakeFiles(many), nameOf);
    await store.refresh();
    expect(store.files).toHaveLength(STORED_PAGE);
    store.showMore();
    expect(store.files).toHaveLength(STORED_PAGE + 5);
  });

  it('copes with a browser that reports nothing', async () => {
    const none = new StorageStore(undefined, fakeFiles(stored), nameOf);
    await none.refresh();
    expect(none.measured).toBe(true);
    expect(none.usedText).toBeUndefined();
    expect(none.persistText).toBeUndefined();
    await none.persist();
    expect(none.persistText).toBe(MAY_CLEAR_TEXT);

    const failing = new StorageStore(
      {
        estimate: () => Promise.reject(new Error('blocked')),
        persisted: () => Promise.reject(new Error('no'))
      },
      fakeFiles([]),
      nameOf
    );
    await failing.refresh();
    expect(failing.measured).toBe(true);
    expect(failing.usage).toBeUndefined();
    expect(failing.persisted).toBeUndefined();
  });
});
