type Child = Node | string | null | undefined | false;

export interface ElementProps {
  className?: string;
  text?: string;
  attrs?: Record<string, string>;
}

/** Builds an element with text and attributes set as properties, never as HTML (file names are user input). */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: ElementProps = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  if (props.className) element.className = props.className;
  if (props.text !== undefined) element.textContent = props.text;
  for (const [name, value] of Object.entries(props.attrs ?? {})) element.setAttribute(name, value);
  for (const child of children) if (child) element.append(child);
  return element;
}

export function button(label: string, onClick: () => void, className = 'secondary'): HTMLButtonElement {
  const element = el('button', { className, text: label, attrs: { type: 'button' } });
  element.addEventListener('click', onClick);
  return element;
}

/** Looks up an element the page's HTML must have; a missing one is a bug in index.html. */
export function required<T extends Element>(selector: string, root: ParentNode = document): T {
  const found = root.querySelector<T>(selector);
  if (!found) throw new Error(`index.html lacks ${selector}`);
  return found;
}
