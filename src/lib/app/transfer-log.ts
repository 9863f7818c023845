/**
 * What the files side remembers across reloads: fetches not finished (to resume them) and the
 * files this device keeps (for Settings → Storage). Message ids and names only: the file
 * records, keys included, stay in the conversations. Kept in a Web Storage (localStorage in the
 * browser), in memory when there is none.
 */

export interface UnfinishedEntry {
  conversationId: string;
  messageId: string;
  paused: boolean;
}

export interface StoredEntry {
  conversationId: string;
  messageId: string;
  name: string;
  size: number;
}

export interface TransferLog {
  unfinished(): UnfinishedEntry[];
  unfinishedAdd(entry: UnfinishedEntry): void;
  forget(messageId: string): void;
  storedFiles(): StoredEntry[];
  stored(entry: StoredEntry): void;
  unstored(messageId: string): void;
}

const KEY = 'p2p4e.files.v1';
/** Entries kept at most (the oldest stored ones go first). */
const MAX_ENTRIES = 5_000;

interface Shape {
  unfinished: UnfinishedEntry[];
  stored: StoredEntry[];
}

type KeyValue = Pick<Storage, 'getItem' | 'setItem'>;

function memoryStorage(): KeyValue {
  const map = new Map<string, string>();
  return { getItem: (k) => map.get(k) ?? null, setItem: (k, v) => void map.set(k, v) };
}

const isStr = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 200;

function load(storage: KeyValue): Shape {
  try {
    const raw = JSON.parse(storage.getItem(KEY) ?? '{}') as Partial<Shape>;
    const unfinished = (Array.isArray(raw.unfinished) ? raw.unfinished : []).filter(
      (e) => isStr(e?.conversationId) && isStr(e?.messageId)
    );
    const stored = (Array.isArray(raw.stored) ? raw.stored : []).filter(
      (e) => isStr(e?.conversationId) && isStr(e?.messageId) && typeof e?.size === 'number'
    );
    return { unfinished, stored };
  } catch {
    return { unfinished: [], stored: [] };
  }
}

export function createTransferLog(storage: KeyValue = memoryStorage()): TransferLog {
  let shape = load(storage);
  const save = (): void => {
    try {
      storage.setItem(KEY, JSON.stringify(shape));
    } catch {
      // storage full or unavailable: resuming after a reload is lost, nothing else
    }
  };
  return {
    unfinished: () => [...shape.unfinished],
    unfinishedAdd(entry) {
      shape.unfinished = [
        ...shape.unfinished.filter((e) => e.messageId !== entry.messageId),
        entry
      ];
      save();
    },
    forget(messageId) {
      shape.unfinished = shape.unfinished.filter((e) => e.messageId !== messageId);
      save();
    },
    storedFiles: () => [...shape.stored].reverse(),
    stored(entry) {
      const rest = shape.stored.filter((e) => e.messageId !== entry.messageId);
      shape = { ...shape, stored: [...rest, entry].slice(-MAX_ENTRIES) };
      save();
    },
    unstored(messageId) {
      shape.stored = shape.stored.filter((e) => e.messageId !== messageId);
      save();
    }
  };
}
