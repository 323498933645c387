// A left-to-right tree layout: each leaf takes the next row, a parent sits level with
// the middle of its children, and each depth is a column.
import type { TopoNode } from "./loadTopology";

export const ROW = 22;
export const COLUMN = 190;

export interface Placed {
  node: TopoNode;
  x: number;
  y: number;
  depth: number;
  parent: Placed | null;
}

/** Every node with its position, parents before children; `rows` is the height in rows. */
export function layout(roots: TopoNode[]): { placed: Placed[]; rows: number; depth: number } {
  const placed: Placed[] = [];
  let row = 0;
  let deepest = 0;
  function place(node: TopoNode, depth: number, parent: Placed | null): Placed {
    const here: Placed = { node, x: depth * COLUMN, y: 0, depth, parent };
    placed.push(here);
    deepest = Math.max(deepest, depth);
    if (node.children.length === 0) {
      here.y = row * ROW;
      row += 1;
    } else {
      const children = node.children.map((child) => place(child, depth + 1, here));
      here.y = ((children[0]?.y ?? 0) + (children[children.length - 1]?.y ?? 0)) / 2;
    }
    return here;
  }
  for (const root of roots) place(root, 0, null);
  return { placed, rows: row, depth: deepest };
}
