// Loaded once per kernel by the runtime model: provides the Markdown renderer
// and the styles to every chat view on the page.

import { IncrementalMarkdown } from "./markdown";
import { provideRenderer } from "./rendererSlot";
import "katex/dist/katex.css";
import "./styles.css";

export function install(): void {
  provideRenderer((container, decorate) => new IncrementalMarkdown(container, decorate));
}

export default { initialize: install };
