/** A tiny listener set: `on(fn)` returns its own unsubscribe (what Svelte's createSubscriber wants). */
export class Listeners<T> {
  readonly #set = new Set<(value: T) => void>();

  on(listener: (value: T) => void): () => void {
    this.#set.add(listener);
    return () => this.#set.delete(listener);
  }

  emit(value: T): void {
    for (const listener of [...this.#set]) {
      try {
        listener(value);
      } catch (err) {
        // A broken listener must not stop the others or the caller.
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }
}
