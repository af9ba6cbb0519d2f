// The comments of a module in source order, handed out as the printer passes their positions.
import type { Comment } from '../ast.js';

export class CommentQueue {
  private readonly pending: Comment[];

  constructor(comments: Comment[]) {
    this.pending = [...comments].sort((a, b) => a.loc.offset - b.loc.offset);
  }

  /** The comments (as `#text`) written before `offset`, taken off the queue. */
  before(offset: number): string[] {
    const out: string[] = [];
    while (this.pending.length > 0 && this.pending[0].loc.offset < offset) out.push(`#${this.pending.shift()!.text}`);
    return out;
  }

  /**
   * Comments before a top-level statement starting at `offset` on `row`: blank lines between groups of comments,
   * and between the last one and the statement, are kept (one each).
   */
  block(offset: number, row: number): string[] {
    const out: string[] = [];
    let last: number | undefined;
    while (this.pending.length > 0 && this.pending[0].loc.offset < offset) {
      const c = this.pending.shift()!;
      if (last !== undefined && c.loc.row > last + 1) out.push('');
      out.push(`#${c.text}`);
      last = c.loc.row;
    }
    if (last !== undefined && row > last + 1) out.push('');
    return out;
  }

  /** The first pending comment's row, if any. */
  nextRow(): number | undefined {
    return this.pending[0]?.loc.row;
  }

  /** The first pending comment's offset, if any. */
  nextOffset(): number | undefined {
    return this.pending[0]?.loc.offset;
  }

  /** The comment that ends source row `row`, taken off the queue. */
  trailing(row: number): string | undefined {
    if (this.pending[0]?.loc.row !== row) return undefined;
    return `#${this.pending.shift()!.text}`;
  }

  rest(): string[] {
    return this.before(Infinity);
  }
}
