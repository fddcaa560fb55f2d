// Builds DOM nodes. Text always goes in through text nodes (never innerHTML), so backend data
// such as tool output is shown as text however hostile it is.

export type Child = Node | string | null | undefined | false;

export interface Props {
  className?: string;
  testid?: string;
  text?: string;
  attrs?: Record<string, string>;
  onClick?: (event: MouseEvent) => void;
}

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Props = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (props.className) node.className = props.className;
  if (props.testid) node.dataset.testid = props.testid;
  if (props.attrs) {
    for (const [name, value] of Object.entries(props.attrs)) node.setAttribute(name, value);
  }
  if (props.text !== undefined) node.textContent = props.text;
  const onClick = props.onClick;
  if (onClick) node.addEventListener("click", (event) => onClick(event as MouseEvent));
  append(node, ...children);
  return node;
}

export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
  }
}

/** Replaces all of `parent`'s children. */
export function setChildren(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, ...children);
}
