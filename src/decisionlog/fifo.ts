// A first-in first-out queue whose shift() is O(1) (Array.prototype.shift moves every element left): callers
// waiting for room under `when_full: block` may number in the thousands, admitted one by one.
export class Fifo<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  shift(): T | undefined {
    if (this.head === this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined;
    // Once the taken half outweighs the rest, drop it: each element is moved at most once more on average.
    if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
}
